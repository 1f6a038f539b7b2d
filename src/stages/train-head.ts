import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../ml/data/dataset-file.js';
import { embeddingModel, featureHeadModel } from '../ml/models/backbone.js';
import { MODEL_CATALOG } from '../ml/models/model-catalog.js';
import { embedImages, featureWidth, rowsTensor } from '../ml/train/features.js';
import { evaluateLoss } from '../ml/train/evaluate-loss.js';
import { compileClassifier } from '../ml/train/optimizer.js';
import { labelsTensor } from '../ml/train/tensors.js';
import { createRandom, shuffled } from '../util/random.js';
import type { TransferParams } from './train-transfer.js';
import type { StageContext } from './stage-context.js';

/** Feature vectors of the split's train and val images, row by row, as the `embed` stage writes them. */
export interface SplitFeatures {
  width: number;
  train: Float32Array;
  val: Float32Array;
}

/** One epoch's numbers, as train.ts records them. */
export interface HeadEpoch {
  loss: number;
  accuracy: number;
  val_loss: number;
  val_accuracy: number;
}

/**
 * The features of a frozen backbone for the split: read from the upstream `embed` node when the plan has one,
 * else computed here in inference mode (the same numbers: embed runs the same code on the same weights).
 */
export async function splitFeatures(
  ctx: StageContext,
  model: tf.LayersModel,
  params: TransferParams,
  data: { train: Dataset; val: Dataset },
): Promise<SplitFeatures> {
  const dir = ctx.inputs.embed;
  if (dir !== undefined && existsSync(path.join(dir, 'features.json'))) return readSplitFeatures(dir);
  const embedder = embeddingModel(model);
  const preprocess = MODEL_CATALOG[params.model].preprocess;
  const all = (d: Dataset) => d.labels.map((_, i) => i);
  ctx.log(`computing frozen ${params.model} features of ${data.train.labels.length + data.val.labels.length} images`);
  const train = await embedImages(embedder, data.train.images, data.train.shape, all(data.train), preprocess);
  const val = await embedImages(embedder, data.val.images, data.val.shape, all(data.val), preprocess);
  return { width: featureWidth(embedder), train, val };
}

/** Reads what the `embed` stage wrote: `features.json` (width, counts) and `train.f32` / `val.f32`. */
export async function readSplitFeatures(dir: string): Promise<SplitFeatures> {
  const meta = JSON.parse(await readFile(path.join(dir, 'features.json'), 'utf8')) as { width: number };
  const read = async (name: string) => {
    const bytes = await readFile(path.join(dir, name));
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  };
  return { width: meta.width, train: await read('train.f32'), val: await read('val.f32') };
}

/** The head of `model` (dropout → predictions, sharing its layers) as a model of its own, compiled to train. */
export function compileHead(model: tf.LayersModel, params: TransferParams, classCount: number): tf.LayersModel {
  const head = featureHeadModel(model);
  compileClassifier(head, params, classCount);
  return head;
}

/**
 * Trains `head` (from {@link compileHead}) on frozen features from epoch `firstEpoch` on, handing each epoch's row to
 * `onEpoch`, which says whether to stop there; the backbone's weights are never touched.
 */
export async function trainHeadEpochs(
  ctx: StageContext,
  head: tf.LayersModel,
  params: TransferParams,
  features: SplitFeatures,
  labels: { train: number[]; val: number[]; classCount: number },
  firstEpoch: number,
  onEpoch: (epoch: number, row: HeadEpoch) => Promise<boolean>,
): Promise<void> {
  const valIndices = labels.val.map((_, i) => i);
  const valX = rowsTensor(features.val, features.width, valIndices);
  const valY = labelsTensor(labels.val, labels.classCount);
  try {
    for (let epoch = firstEpoch; epoch <= params.epochs; epoch++) {
      Math.random = createRandom(params.seed * 1000 + epoch);
      const order = shuffled(
        labels.train.map((_, i) => i),
        createRandom(params.seed + epoch),
      );
      let lossSum = 0;
      let accuracySum = 0;
      for (let start = 0; start < order.length; start += params.batchSize) {
        ctx.throwIfCancelled();
        const indices = order.slice(start, start + params.batchSize);
        const xs = rowsTensor(features.train, features.width, indices);
        const ys = labelsTensor(
          indices.map((i) => labels.train[i] ?? 0),
          labels.classCount,
        );
        const [loss = NaN, accuracy = NaN] = (await head.trainOnBatch(xs, ys)) as number[];
        tf.dispose([xs, ys]);
        lossSum += loss * indices.length;
        accuracySum += accuracy * indices.length;
      }
      const [valLoss, valAccuracy] = await evaluateLoss(head, valX, valY, params.batchSize);
      const row = { loss: lossSum / order.length, accuracy: accuracySum / order.length };
      if (await onEpoch(epoch, { ...row, val_loss: valLoss, val_accuracy: valAccuracy })) break;
    }
  } finally {
    tf.dispose([valX, valY]);
  }
}
