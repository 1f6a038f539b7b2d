import * as tf from '@tensorflow/tfjs';
import { PipelineError } from '../../errors.js';

/** A class activation map: non-negative, scaled to a maximum of 1, at the resolution of the layer it was read from. */
export interface HeatMap {
  width: number;
  height: number;
  /** Row-major values in [0, 1]. */
  values: Float32Array;
}

/** Which class a map explains, and from which layer. */
export interface CamOptions {
  /** Class index; for a single sigmoid unit, 1 is the unit and 0 its complement. */
  classIndex: number;
  /** Layer whose activations are weighted; default: the last convolution ({@link lastConvLayer}). */
  layerName?: string;
}

/** Rank-4 (NHWC) output of a layer, or undefined for layers with several outputs or another rank. */
function spatialOutput(layer: tf.layers.Layer): tf.SymbolicTensor | undefined {
  const output = layer.output;
  if (Array.isArray(output) || output.shape.length !== 4) return undefined;
  return output;
}

/**
 * The last layer, in topological order, that is a convolution with a spatial output: the layer Grad-CAM reads.
 * Found by class name, not layer name, so it works for any family (basic CNN, ResNet V2, MobileNetV2, ...).
 */
export function lastConvLayer(model: tf.LayersModel): tf.layers.Layer {
  const convs = model.layers.filter((layer) => /Conv/.test(layer.getClassName()) && spatialOutput(layer));
  const last = convs[convs.length - 1];
  if (!last) throw new PipelineError('STAGE_FAILED', `model '${model.name}' has no convolution layer to explain`);
  return last;
}

function layerNamed(model: tf.LayersModel, name: string | undefined): tf.layers.Layer {
  if (name === undefined) return lastConvLayer(model);
  const layer = model.getLayer(name);
  if (!spatialOutput(layer)) throw new PipelineError('STAGE_FAILED', `layer '${name}' has no spatial (NHWC) output`);
  return layer;
}

/** Per row of a batch of outputs, the score of that row's class: its softmax channel, or p / 1 − p for one sigmoid unit. */
function classScores(output: tf.Tensor, classes: readonly number[]): tf.Tensor {
  const units = output.shape[output.shape.length - 1] ?? 1;
  if (units === 1) {
    const p = output.reshape([-1]);
    const positive = tf.tensor1d(classes.map((k) => (k === 1 ? 1 : 0)));
    return p.mul(positive).add(tf.sub(1, p).mul(tf.sub(1, positive)));
  }
  return output.mul(tf.oneHot(tf.tensor1d([...classes], 'int32'), units)).sum(-1);
}

/**
 * Runs `model` on `input` (preprocessed images, [n, h, w, c]) and returns the activations A of `layer` and, per
 * image, dScore/dA of its class. tfjs cannot differentiate with respect to an intermediate tensor, and a functional
 * model may route around the layer (residual connections), so the head cannot be re-run from A alone. Instead the
 * layer's output gets a zero offset δ added for one forward pass: dScore/dδ equals dScore/dA, whatever the topology.
 * At inference images do not interact, so the gradient of the summed scores is each image's own.
 */
function activationsAndGradients(
  model: tf.LayersModel,
  layer: tf.layers.Layer,
  input: tf.Tensor4D,
  classes: readonly number[],
): { activations: tf.Tensor; gradients: tf.Tensor } {
  const shape = [input.shape[0], ...(spatialOutput(layer)?.shape.slice(1) ?? [])] as number[];
  const original = layer.call.bind(layer);
  let activations: tf.Tensor | undefined;
  const gradOf = tf.grad((offset: tf.Tensor) => {
    layer.call = (inputs, kwargs) => {
      const out = original(inputs, kwargs) as tf.Tensor;
      activations = tf.keep(out.clone());
      return tf.add(out, offset);
    };
    try {
      return classScores(model.apply(input, { training: false }) as tf.Tensor, classes).sum();
    } finally {
      layer.call = original;
    }
  });
  const offset = tf.zeros(shape);
  const gradients = tf.tidy(() => gradOf(offset));
  offset.dispose();
  if (!activations) throw new PipelineError('STAGE_FAILED', `layer '${layer.name}' was not reached`);
  return { activations, gradients };
}

/** Each [h, w] map of a batch: ReLU, then scaled so its maximum is 1 (all zeros stay zeros), as Keras' example does. */
export function normalizeMaps(maps: tf.Tensor3D): HeatMap[] {
  const [count = 0, height = 0, width = 0] = maps.shape;
  const values = tf.tidy(() => {
    const positive = tf.relu(maps);
    const max = positive.max([1, 2], true);
    return tf.where(max.greater(0), positive.div(max.maximum(1e-12)), positive);
  });
  const data = values.dataSync() as Float32Array;
  values.dispose();
  const size = height * width;
  return Array.from({ length: count }, (_, n) => ({ width, height, values: data.slice(n * size, (n + 1) * size) }));
}

/**
 * Grad-CAM (Selvaraju et al., 2017) for a batch of images: per image, the channels of a conv layer's output weighted
 * by the spatial mean of its class score's gradient, summed, ReLU, scaled to [0, 1]. `input`: preprocessed images
 * [n, h, w, c]; `classes`: the class to explain for each.
 */
export function gradCams(
  model: tf.LayersModel,
  input: tf.Tensor4D,
  classes: readonly number[],
  layerName?: string,
): HeatMap[] {
  const layer = layerNamed(model, layerName);
  const { activations, gradients } = activationsAndGradients(model, layer, input, classes);
  const maps = tf.tidy<tf.Tensor3D>(() => activations.mul(gradients.mean([1, 2], true)).sum(-1));
  activations.dispose();
  gradients.dispose();
  const heat = normalizeMaps(maps);
  maps.dispose();
  return heat;
}

/** {@link gradCams} for one image [1, h, w, c]. */
export function gradCam(model: tf.LayersModel, input: tf.Tensor4D, options: CamOptions): HeatMap {
  const [heat] = gradCams(model, input, [options.classIndex], options.layerName);
  if (!heat) throw new PipelineError('STAGE_FAILED', 'no heat map computed');
  return heat;
}
