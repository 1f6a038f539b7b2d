import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { colorizeHeatMap, jetColor, overlayImages, resampleGrid } from '../../../src/render/heat-map.js';
import { epochTableCsv, epochTableMarkdown } from '../../../src/render/epoch-table.js';
import { pasteScaled, renderTileSheet } from '../../../src/render/tile-sheet.js';

describe('heat-map pictures', () => {
  it('jet runs blue → green → red', () => {
    expect(jetColor(0)).toEqual([0, 0, 128]);
    expect(jetColor(0.5)).toEqual([128, 255, 128]);
    expect(jetColor(1)).toEqual([128, 0, 0]);
    expect(jetColor(NaN)).toEqual(jetColor(0));
  });

  it('resampling keeps corners and interpolates between pixel centres', () => {
    const grid = { width: 2, height: 1, values: Float32Array.from([0, 1]) };
    const wide = resampleGrid(grid, 4, 1);
    expect(Array.from(wide.values)).toEqual([0, 0.25, 0.75, 1]);
  });

  it('colours and overlays at the image size', () => {
    const heat = colorizeHeatMap({ width: 1, height: 1, values: Float32Array.from([1]) }, 3, 2);
    expect(heat.data.length).toBe(18);
    const image = { width: 3, height: 2, data: new Uint8Array(18).fill(200) };
    expect(overlayImages(image, heat, 0.5).data[0]).toBe(164);
  });

  it('tiles are enlarged with hard edges, reduced by averaging, and centred', () => {
    const grey = (values: number[], width: number) => ({
      width,
      height: values.length / width,
      data: Uint8Array.from(values.flatMap((v) => [v, v, v])),
    });
    const red = (image: { data: Uint8Array }) => Array.from(image.data.filter((_, i) => i % 3 === 0));
    const canvas = grey(new Array<number>(16).fill(255), 4);
    pasteScaled(canvas, grey([0, 100, 200, 50], 2), 0, 0, 4);
    expect(red(canvas)).toEqual([0, 0, 100, 100, 0, 0, 100, 100, 200, 200, 50, 50, 200, 200, 50, 50]);
    const small = grey(new Array<number>(4).fill(255), 2);
    pasteScaled(small, grey([0, 100, 200, 50, 0, 100, 200, 50, 10, 10, 30, 30, 10, 10, 30, 30], 4), 0, 0, 2);
    expect(red(small)).toEqual([50, 125, 10, 30]);
    const wide = grey(new Array<number>(16).fill(255), 4);
    pasteScaled(wide, grey([0, 0], 2), 0, 0, 4);
    expect(red(wide)).toEqual([255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255]);
    const tall = grey(new Array<number>(16).fill(255), 4);
    pasteScaled(tall, grey([0, 0], 1), 0, 0, 4);
    expect(red(tall)).toEqual([255, 0, 0, 255, 255, 0, 0, 255, 255, 0, 0, 255, 255, 0, 0, 255]);
  });

  it('a tile sheet is a PNG big enough for its cells', async () => {
    const tile = { width: 4, height: 4, data: new Uint8Array(48).fill(90) };
    const png = await renderTileSheet(
      [
        { tiles: [tile, tile, tile], caption: ['true: a', 'pred: b (0.90)'], color: '#c62828' },
        { tiles: [tile, tile, tile], caption: ['true: b', 'pred: b (0.80)'] },
        { tiles: [tile], caption: ['short'] },
      ],
      { title: 'CAM', tile: 32, columns: 2, tileLabels: ['image', 'heat map', 'overlay'] },
    );
    const meta = await sharp(png).metadata();
    expect(meta.format).toBe('png');
    expect(meta.width).toBeGreaterThanOrEqual(2 * 3 * 32);
    expect(meta.height).toBeGreaterThanOrEqual(2 * (32 + 2 * 15));
  });
});

describe('per-epoch table', () => {
  const rows = [
    { epoch: 1, loss: 0.7, val_accuracy: NaN },
    { epoch: 2, loss: 0.51234, val_accuracy: 0.8 },
  ];
  it('as markdown and CSV, empty where not measured', () => {
    expect(epochTableMarkdown(rows, 'T').split('\n').slice(2, 6)).toEqual([
      '| epoch | loss | val_accuracy |',
      '| ---: | ---: | ---: |',
      '| 1 | 0.7000 |  |',
      '| 2 | 0.5123 | 0.8000 |',
    ]);
    expect(epochTableCsv(rows)).toBe('epoch,loss,val_accuracy\n1,0.7000,\n2,0.5123,0.8000\n');
  });
});
