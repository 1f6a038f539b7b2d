import * as tf from '@tensorflow/tfjs';
import { PipelineError } from '../../errors.js';
import { normalizeMaps, type CamOptions, type HeatMap } from './grad-cam.js';

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
 * The class activation map of Zhou et al. (2016), the report's CAM, for a batch of images [n, h, w, c]: for a model
 * ending in global average pooling and a dense layer, the pooled feature maps weighted by the dense weights of each
 * image's class (for one sigmoid unit: +w for class 1, −w for class 0), ReLU, scaled to [0, 1]. Undefined when the
 * model does not end that way (use Grad-CAM).
 */
export function classActivationMaps(
  model: tf.LayersModel,
  input: tf.Tensor4D,
  classes: readonly number[],
): HeatMap[] | undefined {
  const head = camHead(model);
  if (!head) return undefined;
  const kernel = head.dense.getWeights()[0];
  if (!kernel) throw new PipelineError('STAGE_FAILED', `dense layer '${head.dense.name}' has no kernel`);
  const units = kernel.shape[1] ?? 1;
  const featureModel = tf.model({ inputs: model.inputs, outputs: head.features.output });
  const maps = tf.tidy<tf.Tensor3D>(() => {
    const features = featureModel.predict(input) as tf.Tensor4D;
    // One weight vector per image: [n, channels], broadcast over the spatial axes.
    const perImage =
      units === 1
        ? tf.tensor2d(classes.map((k) => [k === 1 ? 1 : -1])).matMul(kernel.reshape([1, -1]))
        : kernel.transpose().gather(tf.tensor1d([...classes], 'int32'));
    return features.mul(perImage.reshape([classes.length, 1, 1, -1])).sum(-1);
  });
  const heat = normalizeMaps(maps);
  maps.dispose();
  return heat;
}

/** {@link classActivationMaps} for one image [1, h, w, c]. */
export function classActivationMap(
  model: tf.LayersModel,
  input: tf.Tensor4D,
  options: Pick<CamOptions, 'classIndex'>,
): HeatMap | undefined {
  return classActivationMaps(model, input, [options.classIndex])?.[0];
}
