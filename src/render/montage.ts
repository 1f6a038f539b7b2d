import sharp from 'sharp';
import { escapeXml } from './svg-charts.js';
import type { RgbImage } from '../ml/image/rgb-image.js';

/** Side of one example in the montage, in pixels. */
export const MONTAGE_TILE = 96;
const LABEL_WIDTH = 150;
const GAP = 4;

/** One montage row: a label (lines split on `\n`) and its examples, each already {@link MONTAGE_TILE} px square. */
export interface MontageRow {
  label: string;
  tiles: RgbImage[];
}

/** An example scaled to fit a montage tile, centred on a dark background. */
export async function toMontageTile(image: RgbImage): Promise<RgbImage> {
  const raw = { width: image.width, height: image.height, channels: 3 as const };
  const data = await sharp(image.data, { raw })
    .resize(MONTAGE_TILE, MONTAGE_TILE, { fit: 'contain', background: '#202020' })
    .removeAlpha()
    .raw()
    .toBuffer();
  return { data: new Uint8Array(data), width: MONTAGE_TILE, height: MONTAGE_TILE };
}

/** A PNG with one labelled row of examples per entry, for people to check the synthesized masks at a glance. */
export async function renderMontage(rows: readonly MontageRow[]): Promise<Buffer> {
  const columns = Math.max(1, ...rows.map((row) => row.tiles.length));
  const width = LABEL_WIDTH + columns * (MONTAGE_TILE + GAP) + GAP;
  const height = Math.max(1, rows.length) * (MONTAGE_TILE + GAP) + GAP;
  const labels = rows
    .map((row, r) => {
      const y = GAP + r * (MONTAGE_TILE + GAP) + MONTAGE_TILE / 2 - 8;
      const lines = row.label.split('\n').map((line, k) => `<tspan x="8" y="${y + k * 18}">${escapeXml(line)}</tspan>`);
      return `<text font-size="14" font-family="DejaVu Sans, Arial, sans-serif" fill="#222">${lines.join('')}</text>`;
    })
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#fafafa"/>${labels}</svg>`;
  const tiles = rows.flatMap((row, r) =>
    row.tiles.map((tile, c) => ({
      input: Buffer.from(tile.data),
      raw: { width: tile.width, height: tile.height, channels: 3 as const },
      left: LABEL_WIDTH + GAP + c * (MONTAGE_TILE + GAP),
      top: GAP + r * (MONTAGE_TILE + GAP),
    })),
  );
  return sharp(Buffer.from(svg)).composite(tiles).png().toBuffer();
}
