import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { NonRetryableStageError } from '../../../src/errors.js';
import { readDataset } from '../../../src/ml/data/dataset-file.js';
import { IngestParamsSchema, SynthesizeParamsSchema } from '../../../src/stages/catalog.js';
import { runIngest } from '../../../src/stages/ingest.js';
import { runSynthesize } from '../../../src/stages/synthesize.js';
import { selectBackend } from '../../../src/ml/backend.js';
import { stageContext } from '../../helpers/stage-context.js';
import { copySample, ROOT, tempDir } from '../../helpers/temp-project.js';

const DEMO = path.join(ROOT, 'node_modules', '@vladmandic', 'face-api', 'demo');

interface Report {
  backend: string;
  imagesTried: number;
  imagesWithFaces: number;
  yield: number;
  imagesSynthesized: number;
  perVariant: Record<string, number>;
  classes: string[];
  failures: { file: string; reason: string }[];
}

/**
 * 6 face crops and 6 masked faces from the committed sample, plus source images that cannot carry a mask: a grey-scale
 * face, a 32-px face, a background patch, and a face that turns corrupt after ingest read it.
 */
async function makeProject(): Promise<{ ingestDir: string; dataDir: string }> {
  const dataDir = path.join(tempDir('synth-data-'), 'data');
  copySample(dataDir, 6);
  const faces = path.join(dataDir, 'without_mask');
  const face = path.join(faces, readdirSync(faces).sort()[0] ?? '');
  await sharp(face).greyscale().jpeg().toFile(path.join(faces, 'grey.jpg'));
  await sharp(face).resize(32, 32).jpeg().toFile(path.join(faces, 'tiny.jpg'));
  await sharp(path.join(DEMO, 'sample1.jpg'))
    .extract({ left: 0, top: 0, width: 180, height: 160 })
    .png()
    .toFile(path.join(faces, 'wall.png'));
  await sharp(face).jpeg().toFile(path.join(faces, 'zz-later-corrupt.jpg'));
  const ctx = stageContext();
  await runIngest(ctx, IngestParamsSchema.parse({ dataDir, imageSize: 32 }));
  writeFileSync(path.join(faces, 'zz-later-corrupt.jpg'), 'no longer a jpeg');
  return { ingestDir: ctx.outDir, dataDir };
}

/** The backend a worker would have selected before running the stage; the stage reads its name from the context. */
let backend = 'none';

async function synthesize(ingestDir: string, params: Record<string, unknown>, sourceData?: string) {
  const ctx = stageContext({ ingest: ingestDir }, { backend, ...(sourceData === undefined ? {} : { sourceData }) });
  const result = await runSynthesize(ctx, SynthesizeParamsSchema.parse(params));
  const report = JSON.parse(readFileSync(path.join(ctx.outDir, 'synthesis-report.json'), 'utf8')) as Report;
  return { dir: ctx.outDir, result, report, dataset: await readDataset(ctx.outDir) };
}

/** A synthesize run costs seconds on the native backend, and minutes on pure JS (CI without tfjs-node). */
const SLOW_BACKEND_MS = 600_000;
const TWO_CLASS = { sources: ['without_mask'], variants: { proper: 'with_mask', 'improper-nose': 'without_mask' } };

describe('synthesize stage', () => {
  let ingestDir: string;
  let dataDir: string;

  beforeAll(async () => {
    backend = await selectBackend('auto');
    ({ ingestDir, dataDir } = await makeProject());
  });

  it(
    '2-class: adds a masked copy of every face image and reports the images it skipped, and why',
    async () => {
      const ingest = await readDataset(ingestDir);
      const { dir, report, dataset, result } = await synthesize(ingestDir, TWO_CLASS);
      expect(report.backend).toBe(backend);
      expect(report.imagesTried).toBe(10);
      expect(report.imagesWithFaces).toBe(6);
      expect(report.yield).toBeCloseTo(0.6);
      const reasons = Object.fromEntries(report.failures.map((f) => [path.basename(f.file), f.reason]));
      expect(reasons).toEqual({
        'grey.jpg': 'grey-scale image',
        'tiny.jpg': expect.stringMatching(/too small/) as string,
        'wall.png': expect.stringMatching(/no face found/) as string,
        'zz-later-corrupt.jpg': 'not an image',
      });
      expect(report.perVariant).toEqual({ proper: 3, 'improper-nose': 3 });
      expect(dataset.classes).toEqual(['with_mask', 'without_mask']);
      expect(dataset.labels).toEqual([...ingest.labels, 0, 1, 0, 1, 0, 1]);
      expect(dataset.files.slice(ingest.files.length)).toEqual([
        expect.stringMatching(/^without_mask\/.*#proper-1$/),
        expect.stringMatching(/#improper-nose-1$/),
        ...Array.from({ length: 4 }, () => expect.any(String) as string),
      ]);
      expect(Buffer.from(dataset.images.subarray(0, ingest.images.length)).equals(Buffer.from(ingest.images))).toBe(
        true,
      );
      expect(result.metrics.images_synthesized).toBe(6);
      const montage = await sharp(path.join(dir, 'montage.png')).metadata();
      expect(montage.format).toBe('png');
      expect(montage.height).toBeGreaterThan(2 * 96);
    },
    SLOW_BACKEND_MS,
  );

  it(
    '3-class: improper variants go to a new improper_mask class, every source wears each variant once',
    async () => {
      const { report, dataset } = await synthesize(ingestDir, {
        sources: ['without_mask'],
        perImage: 2,
        variants: { proper: 'with_mask', 'improper-chin': 'improper_mask' },
      });
      expect(dataset.classes).toEqual(['with_mask', 'without_mask', 'improper_mask']);
      expect(report.perVariant).toEqual({ proper: 6, 'improper-chin': 6 });
      const added = dataset.labels.slice(-12);
      expect(added.filter((label) => label === 2)).toHaveLength(6);
      expect(added.filter((label) => label === 0)).toHaveLength(6);
    },
    SLOW_BACKEND_MS,
  );

  it(
    'gives the same bytes for the same seed and different ones for another seed',
    async () => {
      const bytes = async (seed: number) =>
        readFileSync(path.join((await synthesize(ingestDir, { ...TWO_CLASS, seed })).dir, 'dataset.bin'));
      const [a, b, c] = [await bytes(3), await bytes(3), await bytes(4)];
      expect(a.equals(b)).toBe(true);
      expect(a.equals(c)).toBe(false);
    },
    SLOW_BACKEND_MS,
  );

  it(
    'reads the originals from the data folder its scheduler names, not the one the ingest output recorded',
    async () => {
      // An ingest output built on another machine records a folder this one does not have.
      const elsewhere = tempDir('synth-elsewhere-');
      cpSync(ingestDir, elsewhere, { recursive: true });
      const reportFile = path.join(elsewhere, 'ingest-report.json');
      const report = JSON.parse(readFileSync(reportFile, 'utf8')) as Record<string, unknown>;
      writeFileSync(reportFile, JSON.stringify({ ...report, dataDir: '/nonexistent/face-mask' }));
      const local = await synthesize(ingestDir, TWO_CLASS);
      const named = await synthesize(elsewhere, TWO_CLASS, dataDir);
      const bytes = (dir: string) => readFileSync(path.join(dir, 'dataset.bin'));
      expect(bytes(named.dir).equals(bytes(local.dir))).toBe(true);
      expect(named.report.imagesWithFaces).toBe(6);
    },
    SLOW_BACKEND_MS,
  );

  it(
    'fails with a clear, non-retryable error when no source image has a usable face',
    async () => {
      const dataDir = path.join(tempDir('synth-none-'), 'data');
      copySample(dataDir, 2);
      mkdirSync(path.join(dataDir, 'scenery'));
      await sharp(path.join(DEMO, 'sample2.jpg'))
        .extract({ left: 0, top: 0, width: 200, height: 150 })
        .png()
        .toFile(path.join(dataDir, 'scenery', 'corner.png'));
      const ctx = stageContext();
      await runIngest(ctx, IngestParamsSchema.parse({ dataDir, imageSize: 16 }));
      const error = await synthesize(ctx.outDir, { sources: ['scenery'], variants: { proper: 'with_mask' } }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(NonRetryableStageError);
      expect((error as Error).message).toMatch(/no usable face in any of the 1 source images \(1× no face found/);
    },
    SLOW_BACKEND_MS,
  );

  it('rejects a source class the ingest output does not have', async () => {
    const error = await synthesize(ingestDir, { ...TWO_CLASS, sources: ['unmasked'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonRetryableStageError);
    expect((error as Error).message).toMatch(/synthesize\.sources: unmasked not among the ingest classes/);
  });
});
