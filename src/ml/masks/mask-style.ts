/** Mask shapes: a pleated surgical mask, a smooth cloth mask, a cup-shaped N95-like respirator. */
export const MASK_SHAPES = ['surgical', 'cloth', 'n95'] as const;
export type MaskShape = (typeof MASK_SHAPES)[number];

/** Fabric patterns printed on the mask. */
export const MASK_PATTERNS = ['plain', 'stripes', 'dots', 'checks', 'print'] as const;
export type MaskPattern = (typeof MASK_PATTERNS)[number];

/** Everything that decides how one mask looks; drawn from a seed by {@link pickMaskStyle}. */
export interface MaskStyle {
  shape: MaskShape;
  pattern: MaskPattern;
  /** Fabric colour, `#rrggbb`. */
  colour: string;
  /** Pattern colour, `#rrggbb`. */
  accent: string;
  /** Pattern period as a share of the face size (chin to nose bridge). */
  patternScale: number;
  /** Pattern rotation in degrees, relative to the face. */
  patternAngle: number;
  /** Strength of the fabric grain, 0..1. */
  grain: number;
  /** Seed of the grain noise (SVG feTurbulence). */
  grainSeed: number;
  /** Edge softness as a share of the face size. */
  softness: number;
}

/** Which styles may be drawn. */
export interface MaskStyleOptions {
  shapes: readonly MaskShape[];
  patterns: readonly MaskPattern[];
}

/** Medical and respirator masks come in few colours; cloth masks in any. */
const SURGICAL_COLOURS = ['#8fc1e3', '#a7d7c5', '#f2f4f5', '#f4c2d0', '#2b2d31', '#6fa8dc'];
const N95_COLOURS = ['#f3f1ea', '#e8e8e8', '#d9d4c7', '#3a3a3a', '#f0e6c8'];

/** Draws a mask style from `random` (a seeded generator): same sequence, same style. */
export function pickMaskStyle(random: () => number, options: MaskStyleOptions): MaskStyle {
  const shape = pick(random, options.shapes);
  // Medical masks are usually plain; keep most of them so, when plain is allowed at all.
  const plainFirst = shape !== 'cloth' && options.patterns.includes('plain') && random() < 0.75;
  const pattern = plainFirst ? 'plain' : pick(random, options.patterns);
  const colour =
    shape === 'surgical'
      ? pick(random, SURGICAL_COLOURS)
      : shape === 'n95'
        ? pick(random, N95_COLOURS)
        : hslToHex(random() * 360, 0.2 + random() * 0.6, 0.2 + random() * 0.6);
  const accent = contrastingColour(colour, random);
  return {
    shape,
    pattern,
    colour,
    accent,
    patternScale: 0.08 + random() * 0.1,
    patternAngle: pick(random, [0, 0, 45, 90, -30]),
    grain: 0.05 + random() * (shape === 'cloth' ? 0.25 : 0.1),
    grainSeed: Math.floor(random() * 10_000),
    softness: 0.008 + random() * 0.012,
  };
}

function pick<T>(random: () => number, items: readonly T[]): T {
  if (items.length === 0) throw new Error('nothing to pick from');
  return items[Math.min(items.length - 1, Math.floor(random() * items.length))] as T;
}

/** A pattern colour: lighter on dark fabric, darker on light fabric, with a random hue shift. */
function contrastingColour(hex: string, random: () => number): string {
  const [r, g, b] = hexToRgb(hex);
  const light = 0.299 * r + 0.587 * g + 0.114 * b > 128;
  const hue = random() * 360;
  return hslToHex(hue, 0.3 + random() * 0.5, light ? 0.15 + random() * 0.3 : 0.65 + random() * 0.25);
}

/** `#rrggbb` → [r, g, b]. */
export function hexToRgb(hex: string): [number, number, number] {
  const value = Number.parseInt(hex.slice(1), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

/** [r, g, b] (0..255, clamped) → `#rrggbb`. */
export function rgbToHex(rgb: readonly number[]): string {
  return `#${rgb
    .map((v) =>
      Math.round(Math.max(0, Math.min(255, v)))
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;
}

function hslToHex(hue: number, saturation: number, lightness: number): string {
  const c = (1 - Math.abs(2 * lightness - 1)) * saturation;
  const x = c * (1 - Math.abs(((hue / 60) % 2) - 1));
  const m = lightness - c / 2;
  const sector = Math.floor(hue / 60) % 6;
  const [r, g, b] = [
    [c, x, 0],
    [x, c, 0],
    [0, c, x],
    [0, x, c],
    [x, 0, c],
    [c, 0, x],
  ][sector] as [number, number, number];
  return rgbToHex([(r + m) * 255, (g + m) * 255, (b + m) * 255]);
}
