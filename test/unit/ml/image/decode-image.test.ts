import { symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage, resizeImage } from '../../../../src/ml/image/decode-image.js';
import { listFiles } from '../../../../src/ml/image/list-files.js';
import type { RgbImage } from '../../../../src/ml/image/rgb-image.js';
import { tempDir, writeFiles } from '../../../helpers/temp-project.js';

/** A `width`×`height` PNG of one RGBA colour. */
async function png(file: string, width: number, height: number, rgba: [number, number, number, number]) {
  const channels = 4 as const;
  const data = Buffer.alloc(width * height * channels);
  for (let p = 0; p < width * height; p++) data.set(rgba, p * channels);
  await sharp(data, { raw: { width, height, channels } }).png().toFile(file);
  return file;
}

describe('decodeImage', () => {
  it('fill stretches to a square; within scales down keeping the aspect, never up', async () => {
    const file = await png(path.join(tempDir(), 'wide.png'), 40, 20, [10, 200, 30, 255]);
    const filled = (await decodeImage(file, { fill: 8 })) as RgbImage;
    expect([filled.width, filled.height, filled.data.length]).toEqual([8, 8, 8 * 8 * 3]);
    expect([...filled.data.subarray(0, 3)]).toEqual([10, 200, 30]);
    const within = (await decodeImage(file, { within: 10 })) as RgbImage;
    expect([within.width, within.height]).toEqual([10, 5]);
    const small = (await decodeImage(file, { within: 1000 })) as RgbImage;
    expect([small.width, small.height]).toEqual([40, 20]);
  });

  it('flattens transparency onto white and gives grey images three equal channels', async () => {
    const dir = tempDir();
    const clear = (await decodeImage(await png(path.join(dir, 'clear.png'), 4, 4, [0, 0, 0, 0]), {
      fill: 4,
    })) as RgbImage;
    expect(new Set(clear.data)).toEqual(new Set([255]));
    const greyFile = path.join(dir, 'grey.png');
    await sharp(await png(path.join(dir, 'c.png'), 4, 4, [200, 50, 50, 255]))
      .removeAlpha()
      .toColourspace('b-w')
      .png()
      .toFile(greyFile);
    expect((await sharp(greyFile).metadata()).channels).toBe(1);
    const grey = (await decodeImage(greyFile, { fill: 4 })) as RgbImage;
    expect(grey.data.length).toBe(4 * 4 * 3);
    const [r, g, b] = grey.data;
    expect(r).toBe(g);
    expect(g).toBe(b);
  });

  it('returns the reason for a file it cannot read', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'notes.txt'), 'not pixels');
    expect(await decodeImage(path.join(dir, 'notes.txt'), { fill: 4 })).toBe('not an image');
    const truncated = path.join(dir, 'cut.png');
    const whole = await sharp(await png(path.join(dir, 'whole.png'), 64, 64, [1, 2, 3, 255]))
      .png()
      .toBuffer();
    writeFileSync(truncated, whole.subarray(0, whole.length - 40));
    expect(await decodeImage(truncated, { fill: 4 })).toMatch(/\w/);
    expect(await decodeImage(truncated, { fill: 4 })).not.toBe('not an image');
  });

  it("gives each unreadable file its own reason when many decode at once (libvips' error buffer is shared)", async () => {
    const dir = tempDir();
    const jpeg = await sharp(await png(path.join(dir, 'a.png'), 96, 96, [9, 8, 7, 255]))
      .jpeg()
      .toBuffer();
    const pngBytes = await sharp(path.join(dir, 'a.png')).png().toBuffer();
    writeFileSync(path.join(dir, 'cut.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
    writeFileSync(path.join(dir, 'cut.png'), pngBytes.subarray(0, Math.floor(pngBytes.length / 2)));
    const alone = {
      jpg: await decodeImage(path.join(dir, 'cut.jpg'), { fill: 16 }),
      png: await decodeImage(path.join(dir, 'cut.png'), { fill: 16 }),
    };
    expect(alone.jpg).not.toBe(alone.png);
    const files = Array.from({ length: 40 }, (_, i) => path.join(dir, i % 2 ? 'cut.png' : 'cut.jpg'));
    const together = await Promise.all(files.map((file) => decodeImage(file, { fill: 16 })));
    together.forEach((reason, i) => expect(reason, files[i]).toBe(i % 2 ? alone.png : alone.jpg));
  });

  it('resizeImage stretches like fill does', async () => {
    const file = await png(path.join(tempDir(), 'big.png'), 30, 12, [90, 60, 30, 255]);
    const full = (await decodeImage(file, { within: 100 })) as RgbImage;
    const direct = (await decodeImage(file, { fill: 6 })) as RgbImage;
    expect([...(await resizeImage(full, 6, 6))]).toEqual([...direct.data]);
  });
});

describe('listFiles', () => {
  it('lists files in nested folders, sorted, without hidden ones', async () => {
    const dir = writeFiles(tempDir(), { 'b/2.jpg': '', 'b/p1/1.jpg': '', 'a.jpg': '', '.DS_Store': '', 'b/.x': '' });
    expect((await listFiles(dir)).map((file) => path.relative(dir, file))).toEqual(['a.jpg', 'b/2.jpg', 'b/p1/1.jpg']);
  });

  it('follows symbolic links to files and folders, enters a folder once (a link loop ends), keeps broken links', async () => {
    const outside = writeFiles(tempDir(), { 'x.jpg': '', 'people/p.jpg': '' });
    const dir = writeFiles(tempDir(), { 'a.jpg': '' });
    symlinkSync(path.join(outside, 'x.jpg'), path.join(dir, 'linked.jpg'));
    symlinkSync(path.join(outside, 'people'), path.join(dir, 'people'));
    symlinkSync(dir, path.join(dir, 'loop'));
    symlinkSync(path.join(outside, 'gone.jpg'), path.join(dir, 'broken.jpg'));
    expect((await listFiles(dir)).map((file) => path.relative(dir, file))).toEqual([
      'a.jpg',
      'broken.jpg',
      'linked.jpg',
      'people/p.jpg',
    ]);
  });
});
