import type * as tf from '@tensorflow/tfjs';

/** Layer classes that convolve: the layers whose outputs are feature maps a class-activation map can be taken from. */
const CONV_CLASSES = new Set(['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D']);
/** Layer classes whose rank-4 outputs summarise, rather than compute, features (not a CAM target). */
const POOLING_CLASSES = new Set(['MaxPooling2D', 'AveragePooling2D', 'ZeroPadding2D']);

function outputRank(layer: tf.layers.Layer): number {
  const shape = layer.outputShape;
  // A layer with several outputs gives an array of shapes; none of the families has one, so it counts as no map.
  return Array.isArray(shape[0]) ? 0 : shape.length;
}

/**
 * Names of the convolution layers of `model` (Conv2D, DepthwiseConv2D, SeparableConv2D), in layer order: every model
 * family's feature maps, for pictures of them.
 */
export function convLayerNames(model: tf.LayersModel): string[] {
  return model.layers.filter((layer) => CONV_CLASSES.has(layer.getClassName())).map((layer) => layer.name);
}

/**
 * Name of the layer whose output is the backbone's last spatial feature map: the usual Grad-CAM target layer, for any
 * model family. It is the last layer with a [batch, height, width, channels] output that is not pooling or padding:
 * `conv3` in the basic CNN, `post_relu` (after the last batch norm) in ResNet50V2, `out_relu` in MobileNetV2, the
 * last residual block's output in face-resnet. Layers after it (global pooling, dropout, dense) form the head.
 * Throws when the model has no such layer (a dense-only model).
 */
export function lastConvLayerName(model: tf.LayersModel): string {
  const layer = model.layers.findLast(
    (candidate) =>
      outputRank(candidate) === 4 &&
      !POOLING_CLASSES.has(candidate.getClassName()) &&
      candidate.getClassName() !== 'InputLayer',
  );
  if (!layer) throw new Error(`model '${model.name}' has no layer with a spatial feature map`);
  return layer.name;
}
