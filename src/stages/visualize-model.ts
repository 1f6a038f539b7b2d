import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { readDataset, type Dataset } from '../ml/data/dataset-file.js';
import { explainImages, featureMapsOf, type ImageBatch } from '../ml/explain/explain-images.js';
import { camExamples, featureExamples, worstMistakes, type ScoredExample } from '../ml/explain/select-examples.js';
import type { RgbImage } from '../ml/image/rgb-image.js';
import { MODEL_CATALOG } from '../ml/models/model-catalog.js';
import { loadModel, readModelMeta } from '../ml/train/model-io.js';
import { colorizeHeatMap, greyscaleChannel, overlayImages } from '../render/heat-map.js';
import { renderTileSheet, type SheetCell } from '../render/tile-sheet.js';
import { PipelineError } from '../errors.js';
import type { VisualizeParams } from './catalog.js';
import { inputDir } from './input-dir.js';
import type { StageContext } from './stage-context.js';

/** Evaluate's decision for every validation image, from its `predictions.csv` (so both agree, threshold included). */
async function readDecisions(evaluateDir: string, val: Dataset): Promise<ScoredExample[]> {
  const file = path.join(evaluateDir, 'predictions.csv');
  const lines = (await readFile(file, 'utf8')).trim().split('\n').slice(1);
  if (lines.length !== val.labels.length) {
    throw new PipelineError(
      'STORE_INVALID',
      `${file}: ${lines.length} rows for ${val.labels.length} validation images`,
    );
  }
  // The file name (first column) may be quoted and hold commas; the last three columns never do.
  return lines.map((line, index) => {
    const fields = line.split(',');
    const predicted = val.classes.indexOf(fields[fields.length - 2] ?? '');
    const confidence = Number(fields[fields.length - 1]);
    if (predicted < 0 || !Number.isFinite(confidence)) {
      throw new PipelineError('STORE_INVALID', `${file}:${index + 2}: unreadable prediction '${line}'`);
    }
    return { index, truth: val.labels[index] ?? -1, predicted, confidence };
  });
}

function imageAt(val: Dataset, index: number): RgbImage {
  const [height, width, channels] = val.shape;
  const size = height * width * channels;
  const pixels = val.images.subarray(index * size, (index + 1) * size);
  if (channels === 3) return { data: pixels, width, height };
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) data.fill(pixels[p * channels] ?? 0, p * 3, p * 3 + 3);
  return { data, width, height };
}

function verdict(val: Dataset, e: ScoredExample): string[] {
  const name = (k: number) => val.classes[k] ?? String(k);
  return [`true: ${name(e.truth)}`, `pred: ${name(e.predicted)} (${e.confidence.toFixed(2)})`];
}

const RED = '#c62828';

/** What the pictures are drawn from: the validation images, evaluate's decisions and the model's input format. */
interface Sources {
  val: Dataset;
  examples: ScoredExample[];
  batch: ImageBatch;
}

async function camSheet(model: tf.LayersModel, { val, examples, batch }: Sources, count: number): Promise<Buffer> {
  const chosen = camExamples(examples, count);
  const targets = chosen.map((e) => ({ index: e.index, classIndex: e.predicted }));
  const { method, maps } = explainImages(model, batch, targets);
  const cells = chosen.map((e, i): SheetCell => {
    const image = imageAt(val, e.index);
    const map = maps[i] ?? { width: 1, height: 1, values: new Float32Array(1) };
    const heat = colorizeHeatMap(map, image.width, image.height);
    const tiles = [image, heat, overlayImages(image, heat)];
    return { tiles, caption: verdict(val, e), ...(e.truth !== e.predicted ? { color: RED } : {}) };
  });
  const title = `${method === 'cam' ? 'CAM' : 'Grad-CAM'} for the predicted class (validation; mistakes in red)`;
  return renderTileSheet(cells, { title, tile: 96, columns: 2, tileLabels: ['image', 'heat map', 'overlay'] });
}

/** One sheet per conv+pool block: a row per class (its image, then the first channels after that block). */
async function featureSheets(
  model: tf.LayersModel,
  { val, examples, batch }: Sources,
  channels: number,
): Promise<Record<string, Buffer>> {
  const perClass = featureExamples(examples);
  const maps = featureMapsOf(
    model,
    batch,
    perClass.map((e) => e.index),
    channels,
  );
  const sheets: Record<string, Buffer> = {};
  for (const [l, first] of (maps[0] ?? []).entries()) {
    const cells = perClass.map((e, c): SheetCell => {
      const group = maps[c]?.[l] ?? first;
      const tiles = group.channels.map((values) =>
        greyscaleChannel({ width: group.width, height: group.height, values }, group.width, group.height),
      );
      const caption = [`${val.classes[e.truth] ?? ''}: image, then channels 1–${tiles.length}`];
      return { tiles: [imageAt(val, e.index), ...tiles], caption };
    });
    const title = `Feature maps after ${first.layer} (${first.height}×${first.width})`;
    sheets[`feature-maps-${first.layer}.png`] = await renderTileSheet(cells, { title, tile: 48, columns: 1 });
  }
  return sheets;
}

async function mistakesSheet({ val, examples }: Sources, count: number): Promise<Buffer> {
  const worst = worstMistakes(examples, count);
  const cells = worst.map((e): SheetCell => ({ tiles: [imageAt(val, e.index)], caption: verdict(val, e), color: RED }));
  const wrong = examples.filter((e) => e.truth !== e.predicted).length;
  const title = worst.length > 0 ? `Most confident mistakes (${worst.length} of ${wrong})` : 'No validation mistakes';
  return renderTileSheet(cells, { title, tile: 96, columns: 6 });
}

/**
 * The model's view of validation images: `cam.png` (original | heat map | overlay for each chosen image),
 * `feature-maps-<layer>.png` (one per conv+pool block, one image per class) and `misclassified.png`.
 * Returns the names of the files written.
 */
export async function drawModelPictures(ctx: StageContext, params: VisualizeParams): Promise<string[]> {
  // With every picture turned off, the model and the validation set are not even read.
  if (params.camImages === 0 && params.featureChannels === 0 && params.mistakes === 0) return [];
  const modelDir = path.join(inputDir(ctx, 'train'), 'model');
  const meta = await readModelMeta(modelDir);
  const val = await readDataset(inputDir(ctx, 'split'), 'val');
  const examples = await readDecisions(inputDir(ctx, 'evaluate'), val);
  const batch: ImageBatch = { images: val.images, shape: val.shape, preprocess: MODEL_CATALOG[meta.model].preprocess };
  const sources: Sources = { val, examples, batch };
  const files: Record<string, Buffer> = {};
  const model = await loadModel(modelDir);
  try {
    if (params.camImages > 0) files['cam.png'] = await camSheet(model, sources, params.camImages);
    ctx.throwIfCancelled();
    if (params.featureChannels > 0) Object.assign(files, await featureSheets(model, sources, params.featureChannels));
  } finally {
    model.dispose();
  }
  ctx.throwIfCancelled();
  if (params.mistakes > 0) files['misclassified.png'] = await mistakesSheet(sources, params.mistakes);
  for (const [name, png] of Object.entries(files)) await writeFile(path.join(ctx.outDir, name), png);
  return Object.keys(files);
}
