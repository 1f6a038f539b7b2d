import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NonRetryableStageError, PipelineError } from '../errors.js';
import { readDataset, writeDataset, type Dataset } from '../ml/data/dataset-file.js';
import { loadFaceModels, type FaceModels } from '../ml/faces/face-models.js';
import { findFaces, type FaceSearch } from '../ml/faces/find-faces.js';
import { resizeImage } from '../ml/image/decode-image.js';
import type { RgbImage } from '../ml/image/rgb-image.js';
import { drawMasks } from '../ml/masks/draw-mask.js';
import type { MaskVariant } from '../ml/masks/mask-geometry.js';
import { pickMaskStyle } from '../ml/masks/mask-style.js';
import { readSourceImage } from '../ml/masks/source-image.js';
import { renderMontage, toMontageTile } from '../render/montage.js';
import { createRandom } from '../util/random.js';
import type { SynthesizeParams } from './catalog.js';
import { inputDir } from './input-dir.js';
import type { StageRun } from './stage-context.js';
import { copyFileName, copySeed, planSynthesis, variantOf, type SynthesisPlan } from './synthesis-plan.js';
import { SynthesisTally } from './synthesis-tally.js';

/** Source images decoded and searched together: enough to fill the detector's mosaics and landmark batches. */
const CHUNK = 64;

/** One run's inputs and what it has made so far. */
interface Synthesis {
  dataset: Dataset;
  dataDir: string;
  plan: SynthesisPlan;
  params: SynthesizeParams;
  models: FaceModels;
  tally: SynthesisTally;
  /** Synthesized copies, in the order they join the dataset. */
  copies: { pixels: Uint8Array; label: number; file: string }[];
  /** Montage tiles by variant. */
  examples: Map<MaskVariant, RgbImage[]>;
}

/**
 * Draws masks on the faces of the source classes' images, worn properly or improperly (ResNet report: masked images
 * made from unmasked ones balance the classes). Images are re-read from the ingest's data folder at full resolution,
 * faces and 68 landmarks found with face-api, masks drawn as SVG and composited with sharp, then resized to the
 * dataset's size. Writes the ingest dataset plus the synthesized images, `synthesis-report.json` and `montage.png`.
 * Images without a usable face are listed and skipped; no face at all is an error.
 */
export const runSynthesize: StageRun<SynthesizeParams> = async (ctx, params) => {
  const ingestDir = inputDir(ctx, 'ingest');
  const dataset = await readDataset(ingestDir);
  const plan = planSynthesis(dataset, params);
  ctx.log(`backend: ${ctx.backend}; ${plan.sources.length} source images from ${params.sources.join(', ')}`);
  const run: Synthesis = {
    dataset,
    dataDir: ctx.sourceData ?? (await readDataDir(ingestDir)),
    plan,
    params,
    models: await loadFaceModels(),
    tally: new SynthesisTally(),
    copies: [],
    examples: new Map(),
  };
  const started = performance.now();
  const total = plan.sources.length;
  for (let start = 0; start < total; start += CHUNK) {
    ctx.throwIfCancelled();
    await synthesizeChunk(run, start);
    const { tally } = run;
    const rate = tally.facesFound / Math.max(1e-3, (performance.now() - started) / 1000);
    const metrics = { images_tried: tally.imagesTried, images_synthesized: tally.imagesSynthesized };
    ctx.progress({
      message: `synthesize ${tally.imagesTried}/${total}`,
      metrics: { ...metrics, faces_per_second: rate },
    });
    ctx.log(tally.progressLine(total, rate));
  }
  const seconds = (performance.now() - started) / 1000;
  if (run.tally.masksMade === 0) throw new NonRetryableStageError(run.tally.noFaceMessage());
  ctx.throwIfCancelled();
  await writeOutputs(ctx.outDir, run);
  const report = run.tally.toReport(plan, params, ctx.backend, seconds);
  await writeFile(path.join(ctx.outDir, 'synthesis-report.json'), `${JSON.stringify(report, null, 2)}\n`);
  ctx.log(
    `${report.imagesSynthesized} images synthesized from ${report.imagesTried} tried (yield ${report.yield.toFixed(3)}), ` +
      `${report.failures.length} skipped, ${report.facesPerSecond.toFixed(1)} faces/s`,
  );
  return {
    metrics: {
      images_tried: report.imagesTried,
      images_synthesized: report.imagesSynthesized,
      faces_found: report.faces.total,
      yield: report.yield,
      faces_per_second: report.facesPerSecond,
    },
    summary: { classes: plan.classes, perVariant: report.perVariant, skipped: report.failures.length },
  };
};

/** The data folder the ingest read, as its report recorded it (right on the machine that built it). */
async function readDataDir(ingestDir: string): Promise<string> {
  const report = JSON.parse(await readFile(path.join(ingestDir, 'ingest-report.json'), 'utf8')) as {
    dataDir?: unknown;
  };
  if (typeof report.dataDir !== 'string') {
    throw new PipelineError('STORE_INVALID', `${ingestDir}/ingest-report.json does not name its data folder`);
  }
  return path.resolve(ingestDir, report.dataDir);
}

/** Decodes, searches and draws the sources from `start` on, one {@link CHUNK}. */
async function synthesizeChunk(run: Synthesis, start: number): Promise<void> {
  const { dataset, dataDir, plan, params, tally } = run;
  const ordinals = Array.from({ length: Math.min(CHUNK, plan.sources.length - start) }, (_, k) => start + k);
  const fileOf = (ordinal: number) => dataset.files[plan.sources[ordinal] ?? -1] ?? '';
  const decoded = await Promise.all(
    ordinals.map((o) => readSourceImage(path.join(dataDir, fileOf(o)), params.maxSide)),
  );
  const readable = ordinals.filter((o, k) => {
    const image = decoded[k];
    if (typeof image === 'string') tally.add({ kind: 'skipped', file: fileOf(o), reason: image });
    return typeof image !== 'string';
  });
  const images = decoded.filter((image): image is RgbImage => typeof image !== 'string');
  const searches = await findFaces(run.models, images, params);
  for (const [k, ordinal] of readable.entries()) {
    const search = searches[k] as FaceSearch;
    if (search.faces.length === 0) {
      tally.add({ kind: 'skipped', file: fileOf(ordinal), reason: search.reason ?? 'no face found' });
      continue;
    }
    tally.add({ kind: 'faces', methods: search.faces.map((face) => face.method) });
    for (let copy = 0; copy < params.perImage; copy++) {
      await drawCopy(run, images[k] as RgbImage, search, ordinal, copy);
    }
  }
}

/** Draws copy `copy` of source `ordinal` with its variant and styles, and adds it to the outputs. */
async function drawCopy(run: Synthesis, image: RgbImage, search: FaceSearch, ordinal: number, copy: number) {
  const { dataset, plan, params } = run;
  const { variant, label } = variantOf(plan, ordinal, copy);
  const source = plan.sources[ordinal] ?? 0;
  const random = createRandom(copySeed(params.seed, source, copy));
  const requests = search.faces.map((face) => ({
    landmarks: face.landmarks,
    variant,
    style: pickMaskStyle(random, params),
  }));
  const drawn = await drawMasks(image, requests);
  const [height, width] = dataset.shape;
  const pixels = await resizeImage(drawn.image, width, height);
  run.copies.push({ pixels, label, file: copyFileName(dataset.files[source] ?? '', variant, copy) });
  run.tally.add({ kind: 'copy', variant, label, masks: requests.length });
  const examples = run.examples.get(variant) ?? [];
  if (examples.length < params.montage) examples.push(await toMontageTile(drawn.image));
  run.examples.set(variant, examples);
}

/** The ingest images followed by the synthesized ones, `montage.png` when asked for. */
async function writeOutputs(outDir: string, run: Synthesis): Promise<void> {
  const { dataset, plan, copies } = run;
  await writeDataset(outDir, {
    classes: plan.classes,
    shape: dataset.shape,
    images: new Uint8Array(Buffer.concat([dataset.images, ...copies.map((c) => c.pixels)])),
    labels: [...dataset.labels, ...copies.map((c) => c.label)],
    files: [...dataset.files, ...copies.map((c) => c.file)],
  });
  if (run.params.montage === 0) return;
  const rows = plan.variants.map(({ variant, label }) => ({
    label: `${variant}\n→ ${plan.classes[label] ?? ''}`,
    tiles: run.examples.get(variant) ?? [],
  }));
  await writeFile(path.join(outDir, 'montage.png'), await renderMontage(rows));
}
