import * as tf from '@tensorflow/tfjs';
import { PipelineError } from '../../errors.js';
import type { CamOptions, HeatMap } from './grad-cam.js';

/** Layers that pass values through unchanged at inference, so they may sit between the pooling and the dense head. */
const TRANSPARENT = new Set(['Dropout', 'SpatialDropout1D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout']);

/** The layer a layer reads from, when it reads exactly one. */
function inboundLayer(layer: tf.layers.Layer): tf.layers.Layer | undefined {
  const nodes = layer.inboundNodes;
  const node = nodes[nodes.length - 1];
  const inbound = node?.inboundLayers ?? [];
  return inbound.length === 1 ? inbound[0] : undefined;
}

/** For a model ending in global average pooling → (dropout) → dense: that dense layer and the pooling's input layer. */
export function camHead(model: tf.LayersModel): { dense: tf.layers.Layer; features: tf.layers.Layer } | undefined {
  const dense = model.layers[model.layers.length - 1];
  if (!dense || dense.getClassName() !== 'Dense') return undefined;
  let layer = inboundLayer(dense);
  while (layer && TRANSPARENT.has(layer.getClassName())) layer = inboundLayer(layer);
  if (!layer || layer.getClassName() !== 'GlobalAveragePooling2D') return undefined;
  const features = inboundLayer(layer);
  return features ? { dense, features } : undefined;
}

/**
 * The class activation map of Zhou et al. (2016), the report's CAM: for a model ending in global average pooling and
 * a dense layer, the pooled feature maps weighted by the dense weights of the class (for one sigmoid unit: +w for
 * class 1, −w for class 0), ReLU, scaled to [0, 1]. Undefined when the model does not end that way (use Grad-CAM).
 */
export function classActivationMap(
  model: tf.LayersModel,
  input: tf.Tensor4D,
  options: Pick<CamOptions, 'classIndex'>,
): HeatMap | undefined {
  const head = camHead(model);
  if (!head) return undefined;
  const kernel = head.dense.getWeights()[0];
  if (!kernel) throw new PipelineError('STAGE_FAILED', `dense layer '${head.dense.name}' has no kernel`);
  const units = kernel.shape[1] ?? 1;
  const featureModel = tf.model({ inputs: model.inputs, outputs: head.features.output });
  const map = tf.tidy(() => {
    const features = (featureModel.predict(input) as tf.Tensor).squeeze([0]);
    const column =
      units === 1 ? kernel.reshape([-1]).mul(options.classIndex === 1 ? 1 : -1) : kernel.gather(options.classIndex, 1);
    const weighted = features.mul(column).sum(-1);
    const positive = tf.relu(weighted);
    const max = positive.max();
    return tf.where(max.greater(0), positive.div(max.maximum(1e-12)), positive) as tf.Tensor2D;
  });
  const [height = 0, width = 0] = map.shape;
  const values = Float32Array.from(map.dataSync());
  map.dispose();
  return { width, height, values };
}
