import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readDataset } from '../ml/data/dataset-file.js';
import { embeddingModel } from '../ml/models/backbone.js';
import { MODEL_CATALOG } from '../ml/models/model-catalog.js';
import { buildModel } from '../ml/models/registry.js';
import { embedImages, featureWidth } from '../ml/train/features.js';
import { createRandom } from '../util/random.js';
import { parseTrainParams, type EmbedParams } from './catalog.js';
import { inputDir } from './input-dir.js';
import type { StageRun } from './stage-context.js';
import { loadPretrained, modelInputShape, type TransferParams } from './train-transfer.js';

/**
 * Runs a frozen backbone over the split's train and val images once, writing one pooled feature vector per image
 * (`train.f32`, `val.f32`, float32 rows, and `features.json`). The planner adds this node before every `train` whose
 * backbone is frozen and shares it across trials: the features depend only on the data, the family, the weights and
 * the input size, never on lr, optimizer or batch size. The backbone is built exactly as `train` builds it (same seed,
 * same weights), so the head trains on the numbers it would compute itself.
 */
export const runEmbed: StageRun<EmbedParams> = async (ctx, params) => {
  const splitDir = inputDir(ctx, 'split');
  const train = await readDataset(splitDir, 'train');
  const val = await readDataset(splitDir, 'val');
  const trainParams = parseTrainParams(params.model, { ...params, freeze: 'backbone' }) as TransferParams;
  Math.random = createRandom(params.seed);
  const input = { shape: modelInputShape(trainParams, train.shape), classCount: train.classes.length };
  const model = await buildModel(params.model, trainParams, input);
  await loadPretrained(model, trainParams);
  const embedder = embeddingModel(model);
  const preprocess = MODEL_CATALOG[params.model].preprocess;
  const total = train.labels.length + val.labels.length;
  let logged = 0;
  const progress = (offset: number) => (done: number) => {
    ctx.throwIfCancelled();
    if (offset + done - logged >= 256 || offset + done === total) {
      logged = offset + done;
      ctx.log(`embedded ${logged}/${total} images`);
    }
  };
  const all = (count: number) => Array.from({ length: count }, (_, i) => i);
  const trainRows = await embedImages(
    embedder,
    train.images,
    train.shape,
    all(train.labels.length),
    preprocess,
    progress(0),
  );
  const valRows = await embedImages(
    embedder,
    val.images,
    val.shape,
    all(val.labels.length),
    preprocess,
    progress(train.labels.length),
  );
  const width = featureWidth(embedder);
  await writeFile(path.join(ctx.outDir, 'train.f32'), new Uint8Array(trainRows.buffer));
  await writeFile(path.join(ctx.outDir, 'val.f32'), new Uint8Array(valRows.buffer));
  const meta = {
    width,
    train: train.labels.length,
    val: val.labels.length,
    model: params.model,
    inputSize: params.inputSize,
  };
  await writeFile(path.join(ctx.outDir, 'features.json'), `${JSON.stringify(meta)}\n`);
  model.dispose();
  return { metrics: {}, summary: { images: total, width } };
};
