import type { RgbImage } from '../ml/image/rgb-image.js';

/** A grid of values (row-major), e.g. a class activation map in [0, 1] or one channel of a feature map. */
export interface ValueGrid {
  width: number;
  height: number;
  values: Float32Array;
}

/** The 'jet' colour map (blue → cyan → yellow → red) that Grad-CAM pictures use, for v in [0, 1]. */
export function jetColor(v: number): [number, number, number] {
  const t = Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0));
  const channel = (offset: number) => Math.round(255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * t - offset))));
  return [channel(3), channel(2), channel(1)];
}

/** Bilinear resampling of a grid to `width` × `height`, pixel centres aligned (as image resizers do). */
export function resampleGrid(grid: ValueGrid, width: number, height: number): ValueGrid {
  const values = new Float32Array(width * height);
  const at = (x: number, y: number) => grid.values[y * grid.width + x] ?? 0;
  for (let y = 0; y < height; y++) {
    const sy = Math.min(grid.height - 1, Math.max(0, ((y + 0.5) * grid.height) / height - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(grid.height - 1, y0 + 1);
    for (let x = 0; x < width; x++) {
      const sx = Math.min(grid.width - 1, Math.max(0, ((x + 0.5) * grid.width) / width - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(grid.width - 1, x0 + 1);
      const top = at(x0, y0) + (at(x1, y0) - at(x0, y0)) * (sx - x0);
      const bottom = at(x0, y1) + (at(x1, y1) - at(x0, y1)) * (sx - x0);
      values[y * width + x] = top + (bottom - top) * (sy - y0);
    }
  }
  return { width, height, values };
}

/** A heat map in [0, 1] as a jet-coloured image of `width` × `height`. */
export function colorizeHeatMap(grid: ValueGrid, width: number, height: number): RgbImage {
  const sized = resampleGrid(grid, width, height);
  const data = new Uint8Array(width * height * 3);
  sized.values.forEach((v, i) => data.set(jetColor(v), i * 3));
  return { data, width, height };
}

/** `heat` blended over `image` (same size): weight `alpha` on the heat colours. */
export function overlayImages(image: RgbImage, heat: RgbImage, alpha = 0.45): RgbImage {
  const data = new Uint8Array(image.data.length);
  for (let i = 0; i < data.length; i++) {
    data[i] = Math.round((1 - alpha) * (image.data[i] ?? 0) + alpha * (heat.data[i] ?? 0));
  }
  return { data, width: image.width, height: image.height };
}

/** A channel as a grey image: min → black, max → white (a constant channel is mid-grey), resampled to size. */
export function greyscaleChannel(grid: ValueGrid, width: number, height: number): RgbImage {
  let low = Infinity;
  let high = -Infinity;
  for (const v of grid.values) {
    low = Math.min(low, v);
    high = Math.max(high, v);
  }
  const span = high - low;
  const sized = resampleGrid(grid, width, height);
  const data = new Uint8Array(width * height * 3);
  sized.values.forEach((v, i) => data.fill(span > 0 ? Math.round((255 * (v - low)) / span) : 128, i * 3, i * 3 + 3));
  return { data, width, height };
}
