import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { augmentBatch, isAugmenting } from '../ml/data/augment.js';
import { readDataset, type Dataset } from '../ml/data/dataset-file.js';
import { MODEL_CATALOG } from '../ml/models/model-catalog.js';
import { buildModel } from '../ml/models/registry.js';
import { loadTrainingCheckpoint, saveTrainingCheckpoint } from '../ml/train/checkpoint.js';
import { saveModel, writeModelMeta } from '../ml/train/model-io.js';
import { compileClassifier } from '../ml/train/optimizer.js';
import { imagesArray, imagesTensor, labelsTensor } from '../ml/train/tensors.js';
import { createRandom, shuffled } from '../util/random.js';
import type { TrainParams } from './catalog.js';
import { inputDir } from './input-dir.js';
import type { StageContext, StageRun } from './stage-context.js';

/** One row of the training history, per epoch. */
export interface EpochMetrics {
  epoch: number;
  loss: number;
  accuracy: number;
  val_loss: number;
  val_accuracy: number;
}

/**
 * Trains a model of the family `params.model` (ml/models) on the split's train part, validating on its val part after
 * every epoch; the model folder records the family beside the weights.
 */
export const runTrain: StageRun<TrainParams> = async (ctx, params) => {
  const splitDir = inputDir(ctx, 'split');
  const train = await readDataset(splitDir, 'train');
  const val = await readDataset(splitDir, 'val');
  // tfjs draws dropout masks and unseeded initial weights from Math.random; seeding it makes a trial reproducible.
  Math.random = createRandom(params.seed);
  const classCount = train.classes.length;
  const model = await buildModel(params.model, params, { shape: train.shape, classCount });
  compileClassifier(model, params, classCount);
  const history = await resumeFromCheckpoint(ctx, model);
  const valX = imagesTensor(
    val.images,
    val.shape,
    val.labels.map((_, i) => i),
    MODEL_CATALOG[params.model].preprocess,
  );
  const valY = labelsTensor(val.labels, val.classes.length);
  ctx.log(
    `${train.labels.length} train / ${val.labels.length} val images, ${params.optimizer} lr=${params.lr} batch=${params.batchSize}`,
  );
  try {
    for (let epoch = history.length + 1; epoch <= params.epochs; epoch++) {
      // Each epoch draws from its own seed, so a run resumed from a checkpoint sees the same batches.
      Math.random = createRandom(params.seed * 1000 + epoch);
      const { loss, accuracy } = await trainEpoch(ctx, model, train, params, createRandom(params.seed + epoch));
      const [valLoss, valAccuracy] = await evaluateModel(model, valX, valY, params.batchSize);
      const row = { epoch, loss, accuracy, val_loss: valLoss, val_accuracy: valAccuracy };
      history.push(row);
      if (!Number.isFinite(loss))
        ctx.log(`epoch ${epoch}: loss is ${loss}; the learning rate is too high for this model`);
      ctx.progress({
        epoch,
        epochs: params.epochs,
        metrics: { loss, accuracy, val_loss: valLoss, val_accuracy: valAccuracy },
      });
      await saveTrainingCheckpoint(ctx.checkpointDir, model, { epoch, history });
    }
  } finally {
    valX.dispose();
    valY.dispose();
  }
  await saveModel(model, path.join(ctx.outDir, 'model'));
  await writeModelMeta(path.join(ctx.outDir, 'model'), {
    classes: train.classes,
    shape: train.shape,
    model: params.model,
  });
  await writeFile(path.join(ctx.outDir, 'history.json'), `${JSON.stringify(history, null, 1)}\n`);
  const last = history.at(-1) ?? { loss: NaN, accuracy: NaN, val_loss: NaN, val_accuracy: NaN };
  const best = Math.max(...history.map((row) => row.val_accuracy));
  const weights = model.countParams();
  model.dispose();
  return {
    metrics: {
      loss: last.loss,
      accuracy: last.accuracy,
      val_loss: last.val_loss,
      val_accuracy: last.val_accuracy,
      best_val_accuracy: best,
    },
    summary: { epochs: history.length, weights },
  };
};

/** Restores the last checkpoint of an earlier attempt into `model` (weights and optimizer state); returns its history. */
async function resumeFromCheckpoint(ctx: StageContext, model: tf.LayersModel): Promise<EpochMetrics[]> {
  const state = await loadTrainingCheckpoint<EpochMetrics>(ctx.checkpointDir, model);
  if (!state) return [];
  ctx.log(`resuming from the checkpoint after epoch ${state.epoch}`);
  return state.history;
}

async function trainEpoch(
  ctx: StageContext,
  model: tf.LayersModel,
  data: Dataset,
  params: TrainParams,
  random: () => number,
) {
  const order = shuffled(
    data.labels.map((_, i) => i),
    random,
  );
  let lossSum = 0;
  let accuracySum = 0;
  for (let start = 0; start < order.length; start += params.batchSize) {
    ctx.throwIfCancelled();
    const indices = order.slice(start, start + params.batchSize);
    const pixels = imagesArray(data.images, data.shape, indices, MODEL_CATALOG[params.model].preprocess);
    if (isAugmenting(params.augment)) augmentBatch(pixels, [indices.length, ...data.shape], params.augment, random);
    const xs = tf.tensor4d(pixels, [indices.length, ...data.shape]);
    const ys = labelsTensor(
      indices.map((i) => data.labels[i] ?? 0),
      data.classes.length,
    );
    const result = (await model.trainOnBatch(xs, ys)) as number[];
    xs.dispose();
    ys.dispose();
    const [loss = NaN, accuracy = NaN] = result;
    lossSum += loss * indices.length;
    accuracySum += accuracy * indices.length;
  }
  return { loss: lossSum / order.length, accuracy: accuracySum / order.length };
}

async function evaluateModel(
  model: tf.LayersModel,
  x: tf.Tensor4D,
  y: tf.Tensor2D,
  batchSize: number,
): Promise<[number, number]> {
  if (x.shape[0] === 0) return [NaN, NaN];
  const outputs = model.evaluate(x, y, { batchSize }) as tf.Scalar[];
  const values = await Promise.all(outputs.map(async (output) => (await output.data())[0] ?? NaN));
  outputs.forEach((output) => output.dispose());
  return [values[0] ?? NaN, values[1] ?? NaN];
}
