import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { augmentBatch, isAugmenting } from '../ml/data/augment.js';
import { readDataset, type Dataset } from '../ml/data/dataset-file.js';
import { MODEL_CATALOG, type ModelName } from '../ml/models/model-catalog.js';
import { buildModel } from '../ml/models/registry.js';
import { restoreCheckpoint, saveTrainingCheckpoint } from '../ml/train/checkpoint.js';
import { latestCheckpoint } from '../ml/train/checkpoint-files.js';
import { saveModel, writeModelMeta } from '../ml/train/model-io.js';
import { evaluateLoss } from '../ml/train/evaluate-loss.js';
import { compileClassifier } from '../ml/train/optimizer.js';
import { fitToModel, imagesArray, imagesTensor, labelsTensor } from '../ml/train/tensors.js';
import type { StageResult } from '../types.js';
import { createRandom, shuffled } from '../util/random.js';
import type { TrainParams } from './catalog.js';
import { awaitGateVerdict, type GateVerdict } from './early-stop-gate.js';
import { inputDir } from './input-dir.js';
import type { StageContext, StageRun } from './stage-context.js';
import { compileHead, splitFeatures, trainHeadEpochs } from './train-head.js';
import {
  compileForEpoch,
  isHeadOnly,
  loadPretrained,
  modelInputShape,
  startsFreshOptimizer,
} from './train-transfer.js';

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
  if (params.batchSize > train.labels.length) {
    ctx.log(
      `warning: train.batchSize ${params.batchSize} is larger than the ${train.labels.length} training images; ` +
        `each epoch is one batch of ${train.labels.length}`,
    );
  }
  // tfjs draws dropout masks and unseeded initial weights from Math.random; seeding it makes a trial reproducible.
  Math.random = createRandom(params.seed);
  const classCount = train.classes.length;
  const model = await buildModel(params.model, params, { shape: modelInputShape(params, train.shape), classCount });
  await loadPretrained(model, params);
  const saved = latestCheckpoint<EpochMetrics>(ctx.checkpointDir);
  const history = saved?.state.history ?? [];
  if (saved) ctx.log(`resuming from the checkpoint after epoch ${saved.state.epoch}`);
  const firstEpoch = history.length + 1;
  // A run resumed at a milestone epoch may have been killed while it waited for its verdict there.
  let stopped = history.length > 0 ? await stopVerdict(ctx, history.length) : undefined;
  const finishEpoch = async (trained: tf.LayersModel, row: EpochMetrics): Promise<boolean> => {
    history.push(row);
    const { epoch, ...metrics } = row;
    if (!Number.isFinite(row.loss))
      ctx.log(`epoch ${epoch}: loss is ${row.loss}; the learning rate is too high for this model`);
    ctx.progress({ epoch, epochs: params.epochs, metrics });
    await saveTrainingCheckpoint(ctx.checkpointDir, trained, { epoch, history });
    stopped = await stopVerdict(ctx, epoch);
    return stopped !== undefined;
  };
  if (isHeadOnly(params)) {
    ctx.log(`frozen ${params.model} backbone: training the head on its features`);
    const features = await splitFeatures(ctx, model, params, { train, val });
    const head = compileHead(model, params, classCount);
    // The head's checkpoint holds its own weights and optimizer; the backbone's come from the pretrained weights.
    if (saved) await restoreCheckpoint(saved, head, { optimizer: true });
    const labels = { train: train.labels, val: val.labels, classCount };
    if (!stopped) {
      await trainHeadEpochs(ctx, head, params, features, labels, firstEpoch, (epoch, row) =>
        finishEpoch(head, { epoch, ...row }),
      );
    }
    return finishTraining(ctx, model, { history, train, family: params.model, stopped });
  }
  const log = (message: string) => ctx.log(message);
  compileClassifier(model, params, classCount);
  // Compiled as the first epoch to run trains (frozen or fine-tuning), so the restored optimizer is the one in use.
  compileForEpoch(model, params, classCount, firstEpoch, true, log);
  if (saved) await restoreCheckpoint(saved, model, { optimizer: !startsFreshOptimizer(params, firstEpoch) });
  const valX = fitToModel(
    imagesTensor(
      val.images,
      val.shape,
      val.labels.map((_, i) => i),
      MODEL_CATALOG[params.model].preprocess,
    ),
    model,
  );
  const valY = labelsTensor(val.labels, val.classes.length);
  ctx.log(
    `${train.labels.length} train / ${val.labels.length} val images, ${params.optimizer} lr=${params.lr} batch=${params.batchSize}`,
  );
  try {
    for (let epoch = firstEpoch; epoch <= params.epochs && !stopped; epoch++) {
      // Each epoch draws from its own seed, so a run resumed from a checkpoint sees the same batches.
      Math.random = createRandom(params.seed * 1000 + epoch);
      if (epoch > firstEpoch) compileForEpoch(model, params, classCount, epoch, false, log);
      const { loss, accuracy } = await trainEpoch(ctx, model, train, params, createRandom(params.seed + epoch));
      const [valLoss, valAccuracy] = await evaluateLoss(model, valX, valY, params.batchSize);
      await finishEpoch(model, { epoch, loss, accuracy, val_loss: valLoss, val_accuracy: valAccuracy });
    }
  } finally {
    valX.dispose();
    valY.dispose();
  }
  return finishTraining(ctx, model, { history, train, family: params.model, stopped });
};

/** Saves the trained model with its meta and history; the stage's result. */
async function finishTraining(
  ctx: StageContext,
  model: tf.LayersModel,
  run: { history: EpochMetrics[]; train: Dataset; family: ModelName; stopped: GateVerdict | undefined },
): Promise<StageResult> {
  const { history, train, family, stopped } = run;
  await saveModel(model, path.join(ctx.outDir, 'model'));
  await writeModelMeta(path.join(ctx.outDir, 'model'), {
    classes: train.classes,
    shape: train.shape,
    model: family,
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
    summary: { epochs: history.length, weights, ...(stopped ? { earlyStop: stopped.reason } : {}) },
  };
}

/** The sweep's early-stopping verdict after `epoch`, when it says stop. */
async function stopVerdict(ctx: StageContext, epoch: number): Promise<GateVerdict | undefined> {
  const verdict = await awaitGateVerdict(ctx, epoch);
  if (!verdict?.stop) return undefined;
  ctx.log(`stopped early after epoch ${epoch}: ${verdict.reason}`);
  return verdict;
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
    const xs = fitToModel(tf.tensor4d(pixels, [indices.length, ...data.shape]), model);
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
