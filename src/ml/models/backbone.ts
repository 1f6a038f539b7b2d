import * as tf from '@tensorflow/tfjs';
import { HEAD_FIRST_LAYER, type TransferConfig } from './transfer-head.js';

/** Index in `model.layers` of the head's first layer (global pooling); -1 for a model without a backbone. */
function headIndex(model: tf.LayersModel): number {
  return model.layers.findIndex((layer) => layer.name === HEAD_FIRST_LAYER);
}

/** Layers of the backbone, the input layer not counted (what `freeze: N` counts); 0 without a backbone. */
export function backboneLayerCount(model: tf.LayersModel): number {
  const head = headIndex(model);
  return head < 0 ? 0 : model.layers.slice(0, head).filter((layer) => layer.getClassName() !== 'InputLayer').length;
}

/**
 * Marks layers as not trainable as `freeze` says: `backbone` every layer before the head, `none` none, N the first N
 * layers (input not counted). Takes effect at the next compile. Layers after them are made trainable again, so
 * fine-tuning calls it a second time with `none`.
 */
export function applyFreeze(model: tf.LayersModel, freeze: TransferConfig['freeze']): void {
  const layers = model.layers.filter((layer) => layer.getClassName() !== 'InputLayer');
  const frozen = freeze === 'backbone' ? backboneLayerCount(model) : freeze === 'none' ? 0 : freeze;
  layers.forEach((layer, index) => {
    layer.trainable = index >= frozen;
  });
}

/**
 * The model up to and including global pooling: image in, one feature vector out. It shares the model's layers, and
 * `predict` runs batch norm in inference mode, so frozen features never move the backbone's statistics.
 */
export function embeddingModel(model: tf.LayersModel): tf.LayersModel {
  return tf.model({
    inputs: model.inputs,
    outputs: model.getLayer(HEAD_FIRST_LAYER).output,
    name: `${model.name}_embed`,
  });
}

/**
 * The head after global pooling (dropout → predictions) as a model of its own on feature vectors, sharing the layers
 * (and so the weights) of `model`: training it trains `model`'s head and nothing else.
 */
export function featureHeadModel(model: tf.LayersModel): tf.LayersModel {
  const pooled = model.getLayer(HEAD_FIRST_LAYER).outputShape as (number | null)[];
  const inputs = tf.input({ shape: [pooled.at(-1) ?? 0], name: 'features' });
  const head = model.layers.slice(headIndex(model) + 1);
  const outputs = head.reduce<tf.SymbolicTensor>((x, layer) => layer.apply(x) as tf.SymbolicTensor, inputs);
  return tf.model({ inputs, outputs, name: `${model.name}_head` });
}

/** Whether `model` has a backbone and head that {@link embeddingModel} and {@link featureHeadModel} can split. */
export function hasBackbone(model: tf.LayersModel): boolean {
  return headIndex(model) >= 0;
}
