import { createRandom } from '../../util/random.js';
import { acrossOf, heightOf, pointAt } from '../faces/landmarks.js';
import type { Point } from '../image/rgb-image.js';
import type { MaskOutline } from './mask-geometry.js';
import type { MaskStyle } from './mask-style.js';

/** One mask to draw: where (outline), how it looks (style), and how the face is lit under it. */
export interface MaskDrawing {
  outline: MaskOutline;
  style: MaskStyle;
  /** Face brightness left and right of the nose, 1 = a well-lit face; the mask is shaded to match. */
  lighting: { left: number; right: number };
}

/**
 * An SVG of `width`×`height` with every mask drawn in image coordinates: fabric colour, pattern, pleats or seams by
 * shape, curvature and lighting shading, ear loops. Fabric grain and the soft edge are added to the raster by
 * drawMasks: librsvg's turbulence and blurred masks cost more than the rest of the drawing together.
 */
export function maskSvg(masks: readonly MaskDrawing[], width: number, height: number): string {
  const body = masks.map((mask, index) => drawOne(mask, `m${index}`)).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${body}</svg>`;
}

function drawOne({ outline, style, lighting }: MaskDrawing, id: string): string {
  const { frame } = outline;
  const unit = frame.scale;
  const path = smoothPath(outline.outline);
  const [bx, by, bw, bh] = bounds([...outline.outline, ...outline.loops.flat()], unit * 0.1);
  const fill = `x="${f(bx)}" y="${f(by)}" width="${f(bw)}" height="${f(bh)}"`;
  const angle = (Math.atan2(frame.right.y, frame.right.x) * 180) / Math.PI;
  const left = outline.top.at(-1) ?? outline.outline[0] ?? frame.origin;
  const right = outline.top[0] ?? left;
  const centre = pointAt(
    frame,
    0,
    (heightOf(frame, outline.peak) + heightOf(frame, outline.bottom[0] ?? frame.origin)) / 2,
  );
  const width = Math.abs(acrossOf(frame, right) - acrossOf(frame, left)) * unit;
  const shade = (value: number) => f(Math.max(0, 1 - value));
  const glow = (value: number) => f(Math.max(0, value - 1));
  const defs = [
    `<clipPath id="${id}a"><path d="${path}"/></clipPath>`,
    `<linearGradient id="${id}l" gradientUnits="userSpaceOnUse" x1="${f(left.x)}" y1="${f(left.y)}" x2="${f(right.x)}" y2="${f(right.y)}"><stop offset="0" stop-color="#000" stop-opacity="${shade(lighting.left)}"/><stop offset="1" stop-color="#000" stop-opacity="${shade(lighting.right)}"/></linearGradient>`,
    `<linearGradient id="${id}h" gradientUnits="userSpaceOnUse" x1="${f(left.x)}" y1="${f(left.y)}" x2="${f(right.x)}" y2="${f(right.y)}"><stop offset="0" stop-color="#fff" stop-opacity="${glow(lighting.left)}"/><stop offset="1" stop-color="#fff" stop-opacity="${glow(lighting.right)}"/></linearGradient>`,
    `<radialGradient id="${id}c" gradientUnits="userSpaceOnUse" cx="${f(centre.x)}" cy="${f(centre.y)}" r="${f(width * 0.62)}"><stop offset="0.45" stop-color="#000" stop-opacity="0"/><stop offset="1" stop-color="#000" stop-opacity="${style.shape === 'n95' ? 0.42 : 0.3}"/></radialGradient>`,
    patternDef(style, `${id}p`, unit, angle),
  ];
  const layers = [
    `<rect ${fill} fill="${style.colour}"/>`,
    style.pattern === 'plain' ? '' : `<rect ${fill} fill="url(#${id}p)" opacity="0.85"/>`,
    shapeDetails(outline, style),
    `<rect ${fill} fill="url(#${id}c)"/>`,
    `<rect ${fill} fill="url(#${id}l)"/>`,
    `<rect ${fill} fill="url(#${id}h)"/>`,
  ];
  return `<defs>${defs.join('')}</defs><g clip-path="url(#${id}a)">${layers.join('')}</g>${earLoops(outline, style)}`;
}

/** A repeating pattern tile, rotated with the face. */
function patternDef(style: MaskStyle, id: string, unit: number, faceAngle: number): string {
  const size = Math.max(2, style.patternScale * unit);
  const s = f(size);
  const open = `<pattern id="${id}" patternUnits="userSpaceOnUse" width="${s}" height="${s}" patternTransform="rotate(${f(faceAngle + style.patternAngle)})">`;
  const accent = style.accent;
  switch (style.pattern) {
    case 'plain':
      return '';
    case 'stripes':
      return `${open}<rect width="${s}" height="${f(size * 0.4)}" fill="${accent}"/></pattern>`;
    case 'dots':
      return `${open}<circle cx="${f(size / 2)}" cy="${f(size / 2)}" r="${f(size * 0.2)}" fill="${accent}"/></pattern>`;
    case 'checks':
      return `${open}<rect width="${f(size / 2)}" height="${f(size / 2)}" fill="${accent}"/><rect x="${f(size / 2)}" y="${f(size / 2)}" width="${f(size / 2)}" height="${f(size / 2)}" fill="${accent}" opacity="0.7"/></pattern>`;
    case 'print':
      return `${open}${printMotif(style, size)}</pattern>`;
  }
}

/** A little flower-and-dot print, laid out from the style's seed. */
function printMotif(style: MaskStyle, size: number): string {
  const random = createRandom(style.grainSeed + 1);
  const parts: string[] = [];
  for (let k = 0; k < 3; k++) {
    const cx = random() * size;
    const cy = random() * size;
    const r = size * (0.06 + random() * 0.08);
    if (random() < 0.5) {
      parts.push(`<circle cx="${f(cx)}" cy="${f(cy)}" r="${f(r)}" fill="${style.accent}"/>`);
      continue;
    }
    for (let petal = 0; petal < 5; petal++) {
      const a = (petal / 5) * 2 * Math.PI;
      parts.push(
        `<circle cx="${f(cx + Math.cos(a) * r)}" cy="${f(cy + Math.sin(a) * r)}" r="${f(r * 0.7)}" fill="${style.accent}"/>`,
      );
    }
    parts.push(`<circle cx="${f(cx)}" cy="${f(cy)}" r="${f(r * 0.6)}" fill="${style.colour}"/>`);
  }
  return parts.join('');
}

/** Pleats and a nose wire for surgical masks, a centre seam for cloth and N95 masks. */
function shapeDetails(outline: MaskOutline, style: MaskStyle): string {
  const unit = outline.frame.scale;
  const stroke = (d: string, colour: string, widthShare: number, opacity: number) =>
    `<path d="${d}" fill="none" stroke="${colour}" stroke-width="${f(Math.max(0.5, widthShare * unit))}" stroke-opacity="${opacity}" stroke-linecap="round"/>`;
  const top = [...outline.top].reverse();
  const bottom = outline.bottom;
  if (style.shape === 'surgical') {
    const pleats = [0.28, 0.5, 0.72].map((t) => smoothLine(blendEdges(top, bottom, t)));
    const wire = smoothLine(blendEdges(top, bottom, 0.04).slice(3, 8));
    return (
      pleats.map((d) => stroke(d, '#000', 0.025, 0.22) + stroke(d, '#fff', 0.012, 0.18)).join('') +
      stroke(wire, '#fff', 0.02, 0.35)
    );
  }
  // The centre column of the edge blend runs from the top edge's middle down to the chin: the seam.
  const seam = smoothLine([0, 0.25, 0.5, 0.75, 1].map((t) => blendEdges(top, bottom, t)[5] ?? outline.peak));
  return style.shape === 'n95'
    ? stroke(seam, '#000', 0.02, 0.25) + stroke(smoothPath(outline.outline), '#fff', 0.05, 0.2)
    : stroke(seam, '#000', 0.015, 0.2);
}

/** Thin elastic loops from the mask corners to the ears. */
function earLoops(outline: MaskOutline, style: MaskStyle): string {
  const { frame } = outline;
  const colour = style.shape === 'n95' ? '#d0d0d0' : style.colour;
  return outline.loops
    .map(([from, to]) => {
      const bend = pointAt(frame, (acrossOf(frame, from) + acrossOf(frame, to)) / 2, heightOf(frame, from) + 0.08);
      const d = `M${f(from.x)},${f(from.y)} Q${f(bend.x)},${f(bend.y)} ${f(to.x)},${f(to.y)}`;
      return `<path d="${d}" fill="none" stroke="${colour}" stroke-width="${f(Math.max(0.5, 0.015 * frame.scale))}" opacity="0.8"/>`;
    })
    .join('');
}

/** Points between the top edge (t = 0) and the bottom edge (t = 1), both sampled left→right at 11 places. */
function blendEdges(top: readonly Point[], bottom: readonly Point[], t: number): Point[] {
  return Array.from({ length: 11 }, (_, k) => {
    const a = alongPolyline(top, k / 10);
    const b = alongPolyline(bottom, k / 10);
    return { x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t };
  });
}

/** The point at share `t` of a polyline's length. */
function alongPolyline(points: readonly Point[], t: number): Point {
  const lengths = points.slice(1).map((p, i) => Math.hypot(p.x - (points[i]?.x ?? 0), p.y - (points[i]?.y ?? 0)));
  let left = t * lengths.reduce((a, b) => a + b, 0);
  for (let i = 0; i < lengths.length; i++) {
    const length = lengths[i] ?? 0;
    if (left <= length && length > 0) {
      const a = points[i] as Point;
      const b = points[i + 1] as Point;
      return { x: a.x + ((b.x - a.x) * left) / length, y: a.y + ((b.y - a.y) * left) / length };
    }
    left -= length;
  }
  return points.at(-1) ?? { x: 0, y: 0 };
}

/** A closed Catmull-Rom spline through `points`, as cubic Bézier segments. */
function smoothPath(points: readonly Point[]): string {
  const p = dedupe(points);
  const n = p.length;
  const at = (i: number) => p[((i % n) + n) % n] as Point;
  let d = `M${f(at(0).x)},${f(at(0).y)}`;
  for (let i = 0; i < n; i++) d += segment(at(i - 1), at(i), at(i + 1), at(i + 2));
  return `${d}Z`;
}

/** An open Catmull-Rom spline through `points`. */
function smoothLine(points: readonly Point[]): string {
  const p = dedupe(points);
  if (p.length < 2) return '';
  const at = (i: number) => p[Math.max(0, Math.min(p.length - 1, i))] as Point;
  let d = `M${f(at(0).x)},${f(at(0).y)}`;
  for (let i = 0; i < p.length - 1; i++) d += segment(at(i - 1), at(i), at(i + 1), at(i + 2));
  return d;
}

function segment(p0: Point, p1: Point, p2: Point, p3: Point): string {
  const c1 = { x: p1.x + (p2.x - p0.x) / 6, y: p1.y + (p2.y - p0.y) / 6 };
  const c2 = { x: p2.x - (p3.x - p1.x) / 6, y: p2.y - (p3.y - p1.y) / 6 };
  return ` C${f(c1.x)},${f(c1.y)} ${f(c2.x)},${f(c2.y)} ${f(p2.x)},${f(p2.y)}`;
}

function dedupe(points: readonly Point[]): Point[] {
  return points.filter((p, i) => {
    const q = points[(i + 1) % points.length] as Point;
    return i === points.length - 1 ? true : Math.hypot(p.x - q.x, p.y - q.y) > 0.01;
  });
}

function bounds(points: readonly Point[], margin: number): [number, number, number, number] {
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const x = Math.min(...xs) - margin;
  const y = Math.min(...ys) - margin;
  return [x, y, Math.max(...xs) + margin - x, Math.max(...ys) + margin - y];
}

/** A number for SVG: two decimals, so the text (and the pixels) never depend on float noise. */
function f(value: number): string {
  return (Math.round(value * 100) / 100).toString();
}
