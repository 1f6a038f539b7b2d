import * as tf from '@tensorflow/tfjs';
import { applyFreeze } from '../ml/models/backbone.js';
import { MODEL_CATALOG } from '../ml/models/model-catalog.js';
import { assignWeights, loadWeightsFile, readPackagedWeights } from '../ml/models/weights.js';
import { compileClassifier } from '../ml/train/optimizer.js';
import type { TransferConfig } from '../ml/models/transfer-head.js';
import { backboneTraining, type TrainParams } from './catalog.js';

/** `train` params of a family with a backbone (they carry the transfer options). */
export type TransferParams = Extract<TrainParams, TransferConfig>;

/** Whether the family of `params` has a backbone and so the transfer options. */
export function isTransfer(params: TrainParams): params is TransferParams {
  return 'inputSize' in params;
}

/**
 * Whether only the head trains, on features of a frozen backbone: then the backbone's output per image depends on
 * nothing the trial varies, and can be computed once (the planner's `embed` node) or per batch. Augmentation changes
 * the images every epoch and fine-tuning unfreezes the backbone, so both train end to end.
 */
export function isHeadOnly(params: TrainParams): params is TransferParams {
  const how = backboneTraining(params);
  return how !== undefined && 'embed' in how;
}

/** The input the model is built for: the family's `inputSize` square, or the dataset's own image size. */
export function modelInputShape(params: TrainParams, dataShape: [number, number, number]): [number, number, number] {
  return isTransfer(params) ? [params.inputSize, params.inputSize, dataShape[2]] : dataShape;
}

/** Sets the backbone's starting weights as `params.pretrained` says (`false`: the initializers' draw stays). */
export async function loadPretrained(model: tf.LayersModel, params: TrainParams): Promise<void> {
  if (!isTransfer(params) || params.pretrained === false) return;
  if (params.pretrained !== true) {
    await loadWeightsFile(model, params.pretrained, 'backbone', `train.pretrained ${params.pretrained}`);
    return;
  }
  const source = MODEL_CATALOG[params.model].weights;
  // The catalogue refuses `pretrained: true` for a family that ships no weights; this guards the type.
  if (source === 'initializers') throw new Error(`model family ${params.model} ships no pretrained weights`);
  const weights = await readPackagedWeights(source);
  try {
    assignWeights(model, weights, 'backbone', `${params.model} weights from ${source}`);
  } finally {
    tf.dispose(Object.values(weights));
  }
}

/** Whether `epoch` starts with a fresh optimizer: the first epoch of fine-tuning, after the frozen phase. */
export function startsFreshOptimizer(params: TrainParams, epoch: number): boolean {
  return isTransfer(params) && params.fineTune !== undefined && epoch === params.fineTune.afterEpochs + 1;
}

/**
 * Freezes and compiles `model` for `epoch` when that changes what trains: at the first epoch this process runs (fresh
 * or resumed) as `freeze` says, or with the backbone frozen while `fineTune` waits; at the epoch after
 * `fineTune.afterEpochs`, everything unfrozen at lr × lrFactor (a fresh optimizer, as Keras' recompile in the
 * two-phase recipe). tfjs collects the trainable weights at compile time, hence the recompile.
 */
export function compileForEpoch(
  model: tf.LayersModel,
  params: TrainParams,
  classCount: number,
  epoch: number,
  firstRun: boolean,
  log: (message: string) => void,
): void {
  if (!isTransfer(params)) return;
  const tune = params.fineTune;
  const switching = tune !== undefined && epoch === tune.afterEpochs + 1;
  if (!firstRun && !switching) return;
  const tuning = tune !== undefined && epoch > tune.afterEpochs;
  applyFreeze(model, tune === undefined ? params.freeze : tuning ? 'none' : 'backbone');
  const lr = tuning ? params.lr * tune.lrFactor : params.lr;
  compileClassifier(model, { optimizer: params.optimizer, lr }, classCount);
  if (tuning) log(`epoch ${epoch}: backbone unfrozen, fine-tuning at lr=${lr}`);
}
