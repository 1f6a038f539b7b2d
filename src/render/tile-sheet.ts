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
 * maps and the misclassified gallery share this layout.
 */
export async function renderTileSheet(cells: readonly SheetCell[], options: TileSheetOptions): Promise<Buffer> {
  const strip = Math.max(1, ...cells.map((cell) => cell.tiles.length));
  const lines = Math.max(0, ...cells.map((cell) => cell.caption.length));
  const labelH = options.tileLabels ? LINE + 2 : 0;
  const cellW = strip * (options.tile + 2) + GAP;
  const cellH = labelH + options.tile + lines * LINE + GAP + 4;
  const columns = Math.max(1, Math.min(options.columns, cells.length));
  const rows = Math.max(1, Math.ceil(cells.length / columns));
  const width = Math.max(columns * cellW + GAP, options.title.length * 9.5 + 2 * GAP);
  const height = TITLE + rows * cellH + GAP;
  const origin = (index: number) => ({
    x: GAP + (index % columns) * cellW,
    y: TITLE + Math.floor(index / columns) * cellH,
  });
  const text: string[] = [
    `<text x="${GAP}" y="20" font-size="15" font-weight="bold" ${FONT}>${escapeXml(options.title)}</text>`,
  ];
  const composites: sharp.OverlayOptions[] = [];
  for (const [index, cell] of cells.entries()) {
    const { x, y } = origin(index);
    cell.tiles.forEach((tile, t) => {
      const left = x + t * (options.tile + 2);
      const label = options.tileLabels?.[t];
      if (label !== undefined) {
        text.push(
          `<text x="${left + options.tile / 2}" y="${y + LINE - 3}" text-anchor="middle" font-size="11" fill="#555" ${FONT}>${escapeXml(label)}</text>`,
        );
      }
      composites.push({ input: Buffer.from(tile.data), raw: { ...size(tile), channels: 3 }, left, top: y + labelH });
    });
    cell.caption.forEach((line, k) => {
      const baseline = y + labelH + options.tile + (k + 1) * LINE;
      text.push(
        `<text x="${x}" y="${baseline}" font-size="12" fill="${cell.color ?? '#222'}" ${FONT}>${escapeXml(line)}</text>`,
      );
    });
  }
  const resized = await Promise.all(
    composites.map(async (item) => ({ ...item, input: await fitTile(item, options.tile) })),
  );
  const background = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#fff"/>${text.join('')}</svg>`;
  return sharp(Buffer.from(background))
    .composite(resized.map((item) => ({ ...item, raw: undefined })))
    .png()
    .toBuffer();
}

function size(tile: RgbImage): { width: number; height: number } {
  return { width: tile.width, height: tile.height };
}

/** A tile as a PNG of `side` × `side`: small activation maps are enlarged with hard pixel edges, photos smoothly. */
async function fitTile(item: sharp.OverlayOptions, side: number): Promise<Buffer> {
  const raw = item.raw as { width: number; height: number; channels: 3 };
  return sharp(item.input as Buffer, { raw })
    .resize(side, side, {
      fit: 'contain',
      background: '#ffffff',
      kernel: raw.width < side / 2 ? 'nearest' : 'lanczos3',
    })
    .png()
    .toBuffer();
}
