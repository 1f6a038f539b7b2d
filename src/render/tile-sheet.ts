import sharp from 'sharp';
import type { RgbImage } from '../ml/image/rgb-image.js';
import { escapeXml } from './svg-charts.js';

/** One cell of a sheet: a strip of tiles side by side and caption lines under it. */
export interface SheetCell {
  tiles: RgbImage[];
  caption: string[];
  /** Caption colour (e.g. red for a mistake); default dark grey. */
  color?: string;
}

export interface TileSheetOptions {
  title: string;
  /** Side of each tile in pixels; tiles are scaled to fit. */
  tile: number;
  /** Cells per row. */
  columns: number;
  /** Labels over the tiles of every strip (e.g. original | heat map | overlay). */
  tileLabels?: string[];
}

const GAP = 6;
const LINE = 15;
const TITLE = 30;
const FONT = 'font-family="DejaVu Sans, Arial, Helvetica, sans-serif"';

/**
 * A PNG of cells in a grid, each a strip of tiles with its caption below, under a title: the CAM grid, the feature
 * maps and the misclassified gallery share this layout. Tiles are scaled into one RGB canvas here and the text is
 * drawn over it in a single sharp call: a sheet holds up to a hundred tiles, and a sharp pipeline per tile cost more
 * than the model's work.
 */
export async function renderTileSheet(cells: readonly SheetCell[], options: TileSheetOptions): Promise<Buffer> {
  const strip = Math.max(1, ...cells.map((cell) => cell.tiles.length));
  const lines = Math.max(0, ...cells.map((cell) => cell.caption.length));
  const labelH = options.tileLabels ? LINE + 2 : 0;
  const cellW = strip * (options.tile + 2) + GAP;
  const cellH = labelH + options.tile + lines * LINE + GAP + 4;
  const columns = Math.max(1, Math.min(options.columns, cells.length));
  const rows = Math.max(1, Math.ceil(cells.length / columns));
  const width = Math.round(Math.max(columns * cellW + GAP, options.title.length * 9.5 + 2 * GAP));
  const height = TITLE + rows * cellH + GAP;
  const canvas: RgbImage = { width, height, data: new Uint8Array(width * height * 3).fill(255) };
  const text: string[] = [
    `<text x="${GAP}" y="20" font-size="15" font-weight="bold" ${FONT}>${escapeXml(options.title)}</text>`,
  ];
  for (const [index, cell] of cells.entries()) {
    const x = GAP + (index % columns) * cellW;
    const y = TITLE + Math.floor(index / columns) * cellH;
    cell.tiles.forEach((tile, t) => {
      const left = x + t * (options.tile + 2);
      const label = options.tileLabels?.[t];
      if (label !== undefined) {
        text.push(
          `<text x="${left + options.tile / 2}" y="${y + LINE - 3}" text-anchor="middle" font-size="11" fill="#555" ${FONT}>${escapeXml(label)}</text>`,
        );
      }
      pasteScaled(canvas, tile, left, y + labelH, options.tile);
    });
    cell.caption.forEach((line, k) => {
      const baseline = y + labelH + options.tile + (k + 1) * LINE;
      text.push(
        `<text x="${x}" y="${baseline}" font-size="12" fill="${cell.color ?? '#222'}" ${FONT}>${escapeXml(line)}</text>`,
      );
    });
  }
  const overlay = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${text.join('')}</svg>`;
  return sharp(canvas.data, { raw: { width, height, channels: 3 } })
    .composite([{ input: Buffer.from(overlay), left: 0, top: 0 }])
    .png()
    .toBuffer();
}

/**
 * Draws `tile` into `canvas` scaled to fit a `side` × `side` box at (left, top), centred: enlarged with hard pixel
 * edges (activation maps are meant to show their cells; small photos stay honest about their resolution), reduced
 * by averaging the source pixels each target pixel covers.
 */
export function pasteScaled(canvas: RgbImage, tile: RgbImage, left: number, top: number, side: number): void {
  const scale = Math.min(side / tile.width, side / tile.height);
  const w = Math.max(1, Math.round(tile.width * scale));
  const h = Math.max(1, Math.round(tile.height * scale));
  const x0 = left + Math.floor((side - w) / 2);
  const y0 = top + Math.floor((side - h) / 2);
  for (let y = 0; y < h; y++) {
    const sy0 = Math.floor((y * tile.height) / h);
    const sy1 = Math.max(sy0 + 1, Math.floor(((y + 1) * tile.height) / h));
    for (let x = 0; x < w; x++) {
      const sx0 = Math.floor((x * tile.width) / w);
      const sx1 = Math.max(sx0 + 1, Math.floor(((x + 1) * tile.width) / w));
      const at = ((y0 + y) * canvas.width + x0 + x) * 3;
      if (x0 + x < 0 || x0 + x >= canvas.width || y0 + y < 0 || y0 + y >= canvas.height) continue;
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let sy = sy0; sy < sy1; sy++) {
          for (let sx = sx0; sx < sx1; sx++) sum += tile.data[(sy * tile.width + sx) * 3 + c] ?? 0;
        }
        canvas.data[at + c] = Math.round(sum / ((sy1 - sy0) * (sx1 - sx0)));
      }
    }
  }
}
