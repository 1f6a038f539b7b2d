/**
 * Throughput of the synthesize stage's work on small face crops: decode, find faces and landmarks, draw a mask,
 * resize to the dataset size. Target: at least 20 faces/s per core on crops of at most 192 px. Writes
 * bench/results/synthesize-throughput.json and prints a summary.
 *
 *   npx tsx bench/synthesize-throughput.ts [--images 512] [--data-dir D] [--max-side 192] [--backend tensorflow]
 *                                          [--out F.json]
 *
 * "Per core" is faces per CPU-second of this process (user + system time), so it does not depend on how many cores
 * TensorFlow's thread pools spread over; wall-clock faces/s are reported beside it.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend, type BackendChoice } from '../src/ml/backend.js';
import { drawMasks } from '../src/ml/masks/draw-mask.js';
import type { RgbImage } from '../src/ml/image/rgb-image.js';
import { loadFaceModels, type FaceModels } from '../src/ml/faces/face-models.js';
import { findFaces } from '../src/ml/faces/find-faces.js';
import { MASK_PATTERNS, MASK_SHAPES, pickMaskStyle } from '../src/ml/masks/mask-style.js';
import { resizeImage } from '../src/ml/image/decode-image.js';
import { readSourceImage } from '../src/ml/masks/source-image.js';
import { SynthesizeParamsSchema } from '../src/stages/catalog.js';
import { createRandom } from '../src/util/random.js';

const REPO_ROOT = path.resolve(import.meta.dirname, '..');
const TARGET_FACES_PER_CORE_SECOND = 20;
/** Same batch of sources as the stage decodes and searches at once. */
const CHUNK = 64;
const DEFAULTS = SynthesizeParamsSchema.parse({ sources: ['without_mask'], variants: { proper: 'with_mask' } });

interface Timing {
  wall: number;
  cpu: number;
}

function parseBenchArgs() {
  const shared = path.resolve(REPO_ROOT, '../shared/datasets/face-mask/without_mask');
  const { values } = parseArgs({
    options: {
      images: { type: 'string', default: '512' },
      'data-dir': { type: 'string', default: existsSync(shared) ? shared : 'data/face-mask/without_mask' },
      'max-side': { type: 'string', default: '192' },
      backend: { type: 'string', default: 'tensorflow' },
      out: { type: 'string', default: path.join(REPO_ROOT, 'bench/results/synthesize-throughput.json') },
    },
  });
  return {
    images: Number(values.images),
    dataDir: path.resolve(values['data-dir']),
    maxSide: Number(values['max-side']),
    backend: values.backend as BackendChoice,
    out: path.resolve(values.out),
  };
}

/** Wall and CPU seconds of `work`. */
async function measure<T>(work: () => Promise<T>): Promise<[T, Timing]> {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const result = await work();
  const used = process.cpuUsage(cpu);
  return [result, { wall: (performance.now() - wall) / 1000, cpu: (used.user + used.system) / 1e6 }];
}

/** The stage's per-chunk work, without the dataset bookkeeping. */
async function synthesizeChunk(models: FaceModels, files: string[], maxSide: number, seed: number) {
  const decoded = await Promise.all(files.map((file) => readSourceImage(file, maxSide)));
  const images = decoded.filter((image): image is RgbImage => typeof image !== 'string');
  const searches = await findFaces(models, images, DEFAULTS);
  const random = createRandom(seed);
  let faces = 0;
  for (const [k, search] of searches.entries()) {
    if (search.faces.length === 0) continue;
    faces += search.faces.length;
    const requests = search.faces.map((face) => ({
      landmarks: face.landmarks,
      variant: 'proper' as const,
      style: pickMaskStyle(random, { shapes: MASK_SHAPES, patterns: MASK_PATTERNS }),
    }));
    const drawn = await drawMasks(images[k] as RgbImage, requests);
    await resizeImage(drawn.image, 64, 64);
  }
  return {
    faces,
    withFaces: searches.filter((s) => s.faces.length > 0).length,
    unreadable: files.length - images.length,
  };
}

async function main(): Promise<void> {
  const args = parseBenchArgs();
  const all = readdirSync(args.dataDir)
    .filter((name) => /\.(jpe?g|png)$/i.test(name))
    .sort()
    .map((name) => path.join(args.dataDir, name));
  const files = all.slice(0, args.images);
  const backend = await selectBackend(args.backend);
  const [models, load] = await measure(() => loadFaceModels());
  // Warm-up: the first detector and landmark calls trace and allocate; not part of the steady state.
  const [, warmup] = await measure(() => synthesizeChunk(models, all.slice(-16), args.maxSide, 0));
  const totals = { faces: 0, withFaces: 0, unreadable: 0 };
  const [, timed] = await measure(async () => {
    for (let start = 0; start < files.length; start += CHUNK) {
      const counts = await synthesizeChunk(models, files.slice(start, start + CHUNK), args.maxSide, start);
      totals.faces += counts.faces;
      totals.withFaces += counts.withFaces;
      totals.unreadable += counts.unreadable;
    }
  });
  const perCore = totals.faces / timed.cpu;
  const result = {
    generatedAt: new Date().toISOString(),
    command: `npx tsx bench/synthesize-throughput.ts --images ${args.images} --max-side ${args.maxSide}`,
    machine: { cpuModel: os.cpus()[0]?.model ?? '?', cores: os.cpus().length, node: process.version },
    loadAverage: os.loadavg(),
    setup: { dataDir: path.relative(REPO_ROOT, args.dataDir), maxSide: args.maxSide, backend, chunk: CHUNK },
    images: files.length,
    imagesWithFaces: totals.withFaces,
    yield: totals.withFaces / files.length,
    faces: totals.faces,
    modelLoadSeconds: load.wall,
    warmupSeconds: warmup.wall,
    wallSeconds: timed.wall,
    cpuSeconds: timed.cpu,
    facesPerSecond: totals.faces / timed.wall,
    facesPerCoreSecond: perCore,
    target: { facesPerCoreSecond: TARGET_FACES_PER_CORE_SECOND, met: perCore >= TARGET_FACES_PER_CORE_SECOND },
  };
  await mkdir(path.dirname(args.out), { recursive: true });
  await writeFile(args.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(
    `${backend}: ${totals.faces} faces in ${files.length} images (yield ${result.yield.toFixed(3)}), ` +
      `${result.facesPerSecond.toFixed(1)} faces/s wall, ${perCore.toFixed(1)} faces per CPU-second ` +
      `(target ${TARGET_FACES_PER_CORE_SECOND}: ${result.target.met ? 'met' : 'missed'}); load ${os
        .loadavg()
        .map((v) => v.toFixed(2))
        .join(' ')}`,
  );
}

await main();
