import * as tf from '@tensorflow/tfjs';
import type { ModelInput } from './model-input.js';
import { addTransferHead, type TransferConfig } from './transfer-head.js';

type SymbolicTensor = tf.SymbolicTensor;

/** Keras' batch-norm epsilon in the ResNet V2 applications. */
const EPSILON = 1.001e-5;

/** Blocks per stack in ResNet50V2: conv2 … conv5. */
const RESNET50_STACKS: readonly { name: string; filters: number; blocks: number; stride: number }[] = [
  { name: 'conv2', filters: 64, blocks: 3, stride: 2 },
  { name: 'conv3', filters: 128, blocks: 4, stride: 2 },
  { name: 'conv4', filters: 256, blocks: 6, stride: 2 },
  { name: 'conv5', filters: 512, blocks: 3, stride: 1 },
];

const apply = (layer: tf.layers.Layer, x: SymbolicTensor): SymbolicTensor => layer.apply(x) as SymbolicTensor;
const batchNorm = (name: string) => tf.layers.batchNormalization({ axis: 3, epsilon: EPSILON, name });
const relu = (name: string) => tf.layers.activation({ activation: 'relu', name });

/**
 * One pre-activation bottleneck block (Keras' `resnet.block2`): BN → ReLU, then 1×1 → 3×3 (strided) → 1×1 convs, added
 * to a shortcut that is a 1×1 conv of the pre-activation (first block of a stack), a 1×1 strided max-pool (a stack's
 * strided last block) or the input itself.
 */
function block(
  x: SymbolicTensor,
  filters: number,
  stride: number,
  convShortcut: boolean,
  name: string,
  poolName: string,
) {
  const preact = apply(relu(`${name}_preact_relu`), apply(batchNorm(`${name}_preact_bn`), x));
  let shortcut = x;
  if (convShortcut)
    shortcut = apply(
      tf.layers.conv2d({ filters: 4 * filters, kernelSize: 1, strides: stride, name: `${name}_0_conv` }),
      preact,
    );
  else if (stride > 1) shortcut = apply(tf.layers.maxPooling2d({ poolSize: 1, strides: stride, name: poolName }), x);
  let y = apply(tf.layers.conv2d({ filters, kernelSize: 1, useBias: false, name: `${name}_1_conv` }), preact);
  y = apply(relu(`${name}_1_relu`), apply(batchNorm(`${name}_1_bn`), y));
  y = apply(
    tf.layers.zeroPadding2d({
      padding: [
        [1, 1],
        [1, 1],
      ],
      name: `${name}_2_pad`,
    }),
    y,
  );
  y = apply(tf.layers.conv2d({ filters, kernelSize: 3, strides: stride, useBias: false, name: `${name}_2_conv` }), y);
  y = apply(relu(`${name}_2_relu`), apply(batchNorm(`${name}_2_bn`), y));
  y = apply(tf.layers.conv2d({ filters: 4 * filters, kernelSize: 1, name: `${name}_3_conv` }), y);
  return tf.layers.add({ name: `${name}_out` }).apply([shortcut, y]) as SymbolicTensor;
}

/** The ResNet50V2 backbone up to `post_relu`, exactly as Keras' `ResNet50V2(include_top=False)` lays it out. */
function resnet50v2Backbone(input: SymbolicTensor): SymbolicTensor {
  let x = apply(
    tf.layers.zeroPadding2d({
      padding: [
        [3, 3],
        [3, 3],
      ],
      name: 'conv1_pad',
    }),
    input,
  );
  x = apply(tf.layers.conv2d({ filters: 64, kernelSize: 7, strides: 2, name: 'conv1_conv' }), x);
  x = apply(
    tf.layers.zeroPadding2d({
      padding: [
        [1, 1],
        [1, 1],
      ],
      name: 'pool1_pad',
    }),
    x,
  );
  x = apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1_pool' }), x);
  RESNET50_STACKS.forEach((stack, stackIndex) => {
    // Keras 2.12 leaves the strided shortcut max-pools unnamed, so they get Keras' automatic names (no weights).
    const poolName = stackIndex === 0 ? 'max_pooling2d' : `max_pooling2d_${stackIndex}`;
    for (let index = 1; index <= stack.blocks; index++) {
      const last = index === stack.blocks;
      x = block(x, stack.filters, last ? stack.stride : 1, index === 1, `${stack.name}_block${index}`, poolName);
    }
  });
  return apply(relu('post_relu'), apply(batchNorm('post_bn'), x));
}

/**
 * Keras' ResNet50V2 (same layers, names, shapes and parameter counts: 23,564,800 without the head) with the transfer
 * head: global average pooling → dropout → sigmoid unit (two classes) or softmax. Keras weights converted to tfjs
 * Layers format load into it by name (ml/models/weights.ts). Returned uncompiled.
 */
export function buildResnet50v2(config: TransferConfig, input: ModelInput): tf.LayersModel {
  const inputs = tf.input({ shape: input.shape, name: 'input' });
  const features = resnet50v2Backbone(inputs);
  return tf.model({ inputs, outputs: addTransferHead(features, config, input.classCount), name: 'resnet50v2' });
}
