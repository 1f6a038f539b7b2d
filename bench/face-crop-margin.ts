/**
 * How much of a data set image lies around the face the detector finds in it: the margin `pipeline detect` adds
 * around a detected box so its crops look like the training images. For every image where SSD MobileNet v1 finds a
 * face (the same search the synthesize stage runs), the space left, right, above and below the box, as a share of
 * the box's width (left, right) or height (top, bottom). Writes bench/results/face-crop-margin.json.
 *
 *   npx tsx bench/face-crop-margin.ts [--images 200] [--data-dir D] [--backend tensorflow]
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend, type BackendChoice } from '../src/ml/backend.js';
import { loadFaceModels } from '../src/ml/faces/face-models.js';
import { findFaces } from '../src/ml/faces/find-faces.js';
import { decodeImage } from '../src/ml/image/decode-image.js';
import type { RgbImage } from '../src/ml/image/rgb-image.js';

const REPO_ROOT = path.resolve(import.meta.dirname, '..');

function parseBenchArgs() {
  const shared = path.resolve(REPO_ROOT, '../shared/datasets/face-mask');
  const { values } = parseArgs({
    options: {
      images: { type: 'string', default: '200' },
      'data-dir': { type: 'string', default: existsSync(shared) ? shared : 'data/face-mask' },
      backend: { type: 'string', default: 'tensorflow' },
      out: { type: 'string', default: path.join(REPO_ROOT, 'bench/results/face-crop-margin.json') },
    },
  });
  return {
    images: Number(values.images),
    dataDir: path.resolve(values['data-dir']),
    backend: values.backend as BackendChoice,
    out: path.resolve(values.out),
  };
}

function quantiles(values: number[]): Record<string, number> {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { p10: at(0.1), p25: at(0.25), median: at(0.5), p75: at(0.75), p90: at(0.9) };
}

async function main(): Promise<void> {
  const args = parseBenchArgs();
  const backend = await selectBackend(args.backend);
  const models = await loadFaceModels();
  const perClass: Record<string, unknown> = {};
  const all: Record<'left' | 'right' | 'top' | 'bottom', number[]> = { left: [], right: [], top: [], bottom: [] };
  for (const className of ['with_mask', 'without_mask']) {
    const dir = path.join(args.dataDir, className);
    const files = readdirSync(dir)
      .filter((name) => /\.(jpe?g|png)$/i.test(name))
      .sort()
      .slice(0, args.images)
      .map((name) => path.join(dir, name));
    const decoded = await Promise.all(files.map((file) => decodeImage(file, { within: 256 })));
    const images = decoded.filter((image): image is RgbImage => typeof image !== 'string');
    const searches = await findFaces(models, images, { minConfidence: 0.5, maxFaces: 1, fallback: false });
    const sides: typeof all = { left: [], right: [], top: [], bottom: [] };
    searches.forEach((search, k) => {
      const face = search.faces[0];
      const image = images[k];
      if (!face || !image) return;
      const { x, y, width, height } = face.box;
      sides.left.push(x / width);
      sides.right.push((image.width - x - width) / width);
      sides.top.push(y / height);
      sides.bottom.push((image.height - y - height) / height);
    });
    for (const side of Object.keys(all) as (keyof typeof all)[]) all[side].push(...sides[side]);
    perClass[className] = {
      images: images.length,
      withFace: sides.left.length,
      ...Object.fromEntries(Object.entries(sides).map(([side, values]) => [side, quantiles(values)])),
    };
  }
  const result = {
    generatedAt: new Date().toISOString(),
    command: `npx tsx bench/face-crop-margin.ts --images ${args.images}`,
    backend,
    dataDir: path.relative(REPO_ROOT, args.dataDir),
    perClass,
    all: Object.fromEntries(Object.entries(all).map(([side, values]) => [side, quantiles(values)])),
  };
  await mkdir(path.dirname(args.out), { recursive: true });
  await writeFile(args.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result.all, null, 1));
}

await main();
