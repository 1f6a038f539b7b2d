import * as tf from '@tensorflow/tfjs';
import type { ModelInput } from './model-input.js';
import { addTransferHead, type TransferConfig } from './transfer-head.js';

type SymbolicTensor = tf.SymbolicTensor;

/** Keras' batch-norm settings in MobileNetV2. */
const BN = { axis: 3, epsilon: 1e-3, momentum: 0.999 };

/** The inverted residual blocks of MobileNetV2 (alpha 1.0): output channels, stride, expansion, one row per block. */
const BLOCKS: readonly [filters: number, stride: number, expansion: number][] = [
  [16, 1, 1],
  [24, 2, 6],
  [24, 1, 6],
  [32, 2, 6],
  [32, 1, 6],
  [32, 1, 6],
  [64, 2, 6],
  [64, 1, 6],
  [64, 1, 6],
  [64, 1, 6],
  [96, 1, 6],
  [96, 1, 6],
  [96, 1, 6],
  [160, 2, 6],
  [160, 1, 6],
  [160, 1, 6],
  [320, 1, 6],
];

const apply = (layer: tf.layers.Layer, x: SymbolicTensor): SymbolicTensor => layer.apply(x) as SymbolicTensor;
const channels = (x: SymbolicTensor): number => x.shape.at(-1) ?? 0;

/** Keras' `correct_pad`: the zero padding before a strided 3×3 depthwise conv, one less on top/left for even sizes. */
function correctPad(x: SymbolicTensor): [[number, number], [number, number]] {
  const [, height = 0, width = 0] = x.shape;
  return [
    [(height ?? 0) % 2, 1],
    [(width ?? 0) % 2, 1],
  ];
}

/** One inverted residual block (Keras' `_inverted_res_block`): expand 1×1 → depthwise 3×3 → project 1×1 (+ skip). */
function invertedResidual(input: SymbolicTensor, filters: number, stride: number, expansion: number, id: number) {
  const prefix = id === 0 ? 'expanded_conv_' : `block_${id}_`;
  let x = input;
  if (id > 0) {
    const expand = { filters: expansion * channels(input), kernelSize: 1, padding: 'same', useBias: false } as const;
    x = apply(tf.layers.conv2d({ ...expand, name: `${prefix}expand` }), x);
    x = apply(tf.layers.batchNormalization({ ...BN, name: `${prefix}expand_BN` }), x);
    x = apply(tf.layers.reLU({ maxValue: 6, name: `${prefix}expand_relu` }), x);
  }
  if (stride === 2) x = apply(tf.layers.zeroPadding2d({ padding: correctPad(x), name: `${prefix}pad` }), x);
  const padding = stride === 1 ? 'same' : 'valid';
  x = apply(
    tf.layers.depthwiseConv2d({ kernelSize: 3, strides: stride, padding, useBias: false, name: `${prefix}depthwise` }),
    x,
  );
  x = apply(tf.layers.batchNormalization({ ...BN, name: `${prefix}depthwise_BN` }), x);
  x = apply(tf.layers.reLU({ maxValue: 6, name: `${prefix}depthwise_relu` }), x);
  x = apply(tf.layers.conv2d({ filters, kernelSize: 1, padding: 'same', useBias: false, name: `${prefix}project` }), x);
  x = apply(tf.layers.batchNormalization({ ...BN, name: `${prefix}project_BN` }), x);
  if (channels(input) !== filters || stride !== 1) return x;
  return tf.layers.add({ name: `${prefix}add` }).apply([input, x]) as SymbolicTensor;
}

/**
 * Keras' MobileNetV2 (alpha 1.0: same layers, names and parameter counts, 2,257,984 without the top) up to `out_relu`,
 * with the transfer head. The weights nsfwjs ships (ImageNet-initialised, fine-tuned on its own task) load into it
 * by name (ml/models/weights.ts). Returned uncompiled.
 */
export function buildMobilenetV2(config: TransferConfig, input: ModelInput): tf.LayersModel {
  const inputs = tf.input({ shape: input.shape, name: 'input' });
  let x = apply(
    tf.layers.conv2d({ filters: 32, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'Conv1' }),
    inputs,
  );
  x = apply(tf.layers.batchNormalization({ ...BN, name: 'bn_Conv1' }), x);
  x = apply(tf.layers.reLU({ maxValue: 6, name: 'Conv1_relu' }), x);
  BLOCKS.forEach(([filters, stride, expansion], id) => {
    x = invertedResidual(x, filters, stride, expansion, id);
  });
  x = apply(tf.layers.conv2d({ filters: 1280, kernelSize: 1, useBias: false, name: 'Conv_1' }), x);
  x = apply(tf.layers.batchNormalization({ ...BN, name: 'Conv_1_bn' }), x);
  x = apply(tf.layers.reLU({ maxValue: 6, name: 'out_relu' }), x);
  return tf.model({ inputs, outputs: addTransferHead(x, config, input.classCount), name: 'mobilenetv2' });
}
