import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NonRetryableStageError, PipelineError } from '../errors.js';
import { BACKENDS, selectBackend, type BackendName } from '../ml/backend.js';
import { readDataset, writeDataset, type Dataset } from '../ml/dataset-file.js';
import { drawMasks } from '../ml/draw-mask.js';
import type { RgbImage } from '../ml/face-landmarks.js';
import { loadFaceModels, type FaceModels } from '../ml/face-models.js';
import { findFaces, type FaceSearch } from '../ml/find-faces.js';
import { MASK_VARIANTS, type MaskVariant } from '../ml/mask-geometry.js';
import { renderMontage, toMontageTile } from '../ml/mask-montage.js';
import { pickMaskStyle } from '../ml/mask-style.js';
import { readSourceImage, resizeImage } from '../ml/source-image.js';
import { createRandom } from '../util/random.js';
import type { SynthesizeParams } from './catalog.js';
import { inputDir } from './input-dir.js';
import type { StageContext, StageRun } from './stage-context.js';

/** Source images decoded and searched together: enough to fill the detector's mosaics and landmark batches. */
const CHUNK = 64;

/** What the stage works from: the output classes, the variant of each copy, and the source images. */
interface SynthesisPlan {
  classes: string[];
  variants: { variant: MaskVariant; label: number }[];
  /** Indices into the ingest dataset. */
  sources: number[];
}

/** Counters, outputs and examples gathered while the stage runs; becomes `synthesis-report.json`. */
interface SynthesisState {
  imagesTried: number;
  imagesWithFaces: number;
  faces: { detector: number; wholeImage: number };
  masksMade: number;
  perVariant: Record<string, number>;
  failures: { file: string; reason: string }[];
  images: Uint8Array[];
  labels: number[];
  files: string[];
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
  const dataDir = await readDataDir(ingestDir);
  const plan = planSynthesis(dataset, params);
  const backend = await selectBackend(
    (BACKENDS as readonly string[]).includes(ctx.backend) ? (ctx.backend as BackendName) : 'auto',
  );
  ctx.log(`backend: ${backend}; ${plan.sources.length} source images from ${params.sources.join(', ')}`);
  const models = await loadFaceModels();
  const state: SynthesisState = {
    imagesTried: 0,
    imagesWithFaces: 0,
    faces: { detector: 0, wholeImage: 0 },
    masksMade: 0,
    perVariant: {},
    failures: [],
    images: [],
    labels: [],
    files: [],
    examples: new Map(),
  };
  const started = performance.now();
  for (let start = 0; start < plan.sources.length; start += CHUNK) {
    if (ctx.signal.aborted) throw new PipelineError('CANCELLED', 'synthesize cancelled');
    await synthesizeChunk(models, { dataset, dataDir, plan, params, state }, start);
    reportProgress(ctx, state, plan.sources.length, started);
  }
  const seconds = (performance.now() - started) / 1000;
  if (state.masksMade === 0) throw new NonRetryableStageError(noFaceMessage(state));
  await writeOutputs(ctx.outDir, dataset, plan, state, params);
  const report = buildReport(state, plan, params, backend, seconds);
  await writeFile(path.join(ctx.outDir, 'synthesis-report.json'), `${JSON.stringify(report, null, 2)}\n`);
  ctx.log(
    `${state.labels.length} images synthesized from ${state.imagesTried} tried (yield ${report.yield.toFixed(3)}), ` +
      `${state.failures.length} skipped, ${report.facesPerSecond.toFixed(1)} faces/s`,
  );
  return {
    metrics: {
      images_tried: state.imagesTried,
      images_synthesized: state.labels.length,
      faces_found: report.faces.total,
      yield: report.yield,
      faces_per_second: report.facesPerSecond,
    },
    summary: { classes: plan.classes, perVariant: state.perVariant, skipped: state.failures.length },
  };
};

/** The data folder the ingest read, from its report. */
async function readDataDir(ingestDir: string): Promise<string> {
  const report = JSON.parse(await readFile(path.join(ingestDir, 'ingest-report.json'), 'utf8')) as {
    dataDir?: unknown;
  };
  if (typeof report.dataDir !== 'string') {
    throw new PipelineError('STORE_INVALID', `${ingestDir}/ingest-report.json does not name its data folder`);
  }
  return path.resolve(ingestDir, report.dataDir);
}

/** Checks the source classes exist, appends new output classes, and lists the source images. */
export function planSynthesis(dataset: Dataset, params: SynthesizeParams): SynthesisPlan {
  const missing = params.sources.filter((name) => !dataset.classes.includes(name));
  if (missing.length > 0) {
    throw new NonRetryableStageError(
      `synthesize.sources: ${missing.join(', ')} not among the ingest classes (${dataset.classes.join(', ')})`,
    );
  }
  const classes = [...dataset.classes];
  // In catalog order, not the order the file lists them: the cache key hashes params with sorted keys, so the
  // output must not depend on key order either.
  const variants = MASK_VARIANTS.flatMap((variant) => {
    const name = params.variants[variant];
    if (name === undefined) return [];
    if (!classes.includes(name)) classes.push(name);
    return [{ variant, label: classes.indexOf(name) }];
  });
  const sourceLabels = new Set(params.sources.map((name) => dataset.classes.indexOf(name)));
  const sources = dataset.labels.flatMap((label, index) => (sourceLabels.has(label) ? [index] : []));
  return { classes, variants, sources: sources.slice(0, params.maxSources ?? sources.length) };
}

interface ChunkInput {
  dataset: Dataset;
  dataDir: string;
  plan: SynthesisPlan;
  params: SynthesizeParams;
  state: SynthesisState;
}

/** Decodes, searches and draws the sources from `start` on, one {@link CHUNK}. */
async function synthesizeChunk(models: FaceModels, input: ChunkInput, start: number): Promise<void> {
  const { dataset, dataDir, plan, params, state } = input;
  const ordinals = Array.from({ length: Math.min(CHUNK, plan.sources.length - start) }, (_, k) => start + k);
  const fileOf = (ordinal: number) => dataset.files[plan.sources[ordinal] ?? -1] ?? '';
  const decoded = await Promise.all(
    ordinals.map((o) => readSourceImage(path.join(dataDir, fileOf(o)), params.maxSide)),
  );
  state.imagesTried += ordinals.length;
  const readable = ordinals.filter((o, k) => {
    const image = decoded[k];
    if (typeof image === 'string') state.failures.push({ file: fileOf(o), reason: image });
    return typeof image !== 'string';
  });
  const images = decoded.filter((image): image is RgbImage => typeof image !== 'string');
  const searches = await findFaces(models, images, params);
  for (const [k, ordinal] of readable.entries()) {
    const search = searches[k] as FaceSearch;
    if (search.faces.length === 0) {
      state.failures.push({ file: fileOf(ordinal), reason: search.reason ?? 'no face found' });
      continue;
    }
    state.imagesWithFaces++;
    for (const face of search.faces) state.faces[face.method === 'detector' ? 'detector' : 'wholeImage']++;
    for (let copy = 0; copy < params.perImage; copy++) {
      await drawCopy(input, images[k] as RgbImage, search, ordinal, copy);
    }
  }
}

/** Draws copy `copy` of source `ordinal` with its variant and styles, and adds it to the outputs. */
async function drawCopy(input: ChunkInput, image: RgbImage, search: FaceSearch, ordinal: number, copy: number) {
  const { dataset, plan, params, state } = input;
  const { variant, label } = plan.variants[(ordinal + copy) % plan.variants.length] as SynthesisPlan['variants'][0];
  // Seeded per source and copy, not per run order, so a copy looks the same however the work is chunked.
  const random = createRandom(mixSeed(params.seed, plan.sources[ordinal] ?? 0, copy));
  const requests = search.faces.map((face) => ({
    landmarks: face.landmarks,
    variant,
    style: pickMaskStyle(random, params),
  }));
  const drawn = await drawMasks(image, requests);
  const [height, width] = dataset.shape;
  state.images.push(await resizeImage(drawn.image, width, height));
  state.labels.push(label);
  state.files.push(`${dataset.files[plan.sources[ordinal] ?? -1] ?? ''}#${variant}-${copy + 1}`);
  state.masksMade += requests.length;
  state.perVariant[variant] = (state.perVariant[variant] ?? 0) + 1;
  const examples = state.examples.get(variant) ?? [];
  if (examples.length < params.montage) examples.push(await toMontageTile(drawn.image));
  state.examples.set(variant, examples);
}

/** A 32-bit seed from the run's seed, a source index and a copy number. */
function mixSeed(seed: number, source: number, copy: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (source + 0x632be5ab), 0xc2b2ae35) >>> 0;
  h = Math.imul(h ^ (copy + 0x27d4eb2f), 0x165667b1) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

function reportProgress(ctx: StageContext, state: SynthesisState, total: number, started: number): void {
  const faces = state.faces.detector + state.faces.wholeImage;
  const rate = faces / Math.max(1e-3, (performance.now() - started) / 1000);
  ctx.progress({
    message: `synthesize ${state.imagesTried}/${total}`,
    metrics: { images_tried: state.imagesTried, images_synthesized: state.labels.length, faces_per_second: rate },
  });
  ctx.log(
    `${state.imagesTried}/${total} images: ${state.imagesWithFaces} with faces, ${state.labels.length} synthesized, ` +
      `${rate.toFixed(1)} faces/s`,
  );
}

function noFaceMessage(state: SynthesisState): string {
  const reasons = new Map<string, number>();
  for (const { reason } of state.failures) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  const top = [...reasons.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3);
  return (
    `synthesize: no usable face in any of the ${state.imagesTried} source images ` +
    `(${top.map(([reason, count]) => `${count}× ${reason}`).join('; ') || 'no source images'})`
  );
}

/** The ingest images followed by the synthesized ones, `montage.png` when asked for. */
async function writeOutputs(
  outDir: string,
  dataset: Dataset,
  plan: SynthesisPlan,
  state: SynthesisState,
  params: SynthesizeParams,
) {
  const images = new Uint8Array(dataset.images.length + state.images.reduce((sum, image) => sum + image.length, 0));
  images.set(dataset.images);
  let offset = dataset.images.length;
  for (const image of state.images) {
    images.set(image, offset);
    offset += image.length;
  }
  await writeDataset(outDir, {
    classes: plan.classes,
    shape: dataset.shape,
    images,
    labels: [...dataset.labels, ...state.labels],
    files: [...dataset.files, ...state.files],
  });
  if (params.montage === 0) return;
  const rows = plan.variants.map(({ variant, label }) => ({
    label: `${variant}\n→ ${plan.classes[label] ?? ''}`,
    tiles: state.examples.get(variant) ?? [],
  }));
  await writeFile(path.join(outDir, 'montage.png'), await renderMontage(rows));
}

function buildReport(
  state: SynthesisState,
  plan: SynthesisPlan,
  params: SynthesizeParams,
  backend: string,
  seconds: number,
) {
  const total = state.faces.detector + state.faces.wholeImage;
  const added = Object.fromEntries(
    plan.classes.map((name, k) => [name, state.labels.filter((label) => label === k).length]),
  );
  return {
    seed: params.seed,
    backend,
    sources: params.sources,
    variants: params.variants,
    classes: plan.classes,
    imagesTried: state.imagesTried,
    imagesWithFaces: state.imagesWithFaces,
    yield: state.imagesTried === 0 ? 0 : state.imagesWithFaces / state.imagesTried,
    faces: { total, detector: state.faces.detector, wholeImage: state.faces.wholeImage },
    masksMade: state.masksMade,
    imagesSynthesized: state.labels.length,
    perVariant: state.perVariant,
    perClassAdded: added,
    seconds,
    facesPerSecond: total / Math.max(1e-3, seconds),
    failures: state.failures,
  };
}
