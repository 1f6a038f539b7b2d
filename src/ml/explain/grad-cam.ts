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

/** The score of `classIndex` in a batch of outputs: the softmax channel, or p / 1 − p for one sigmoid unit. */
function classScore(output: tf.Tensor, classIndex: number): tf.Tensor {
  const units = output.shape[output.shape.length - 1] ?? 1;
  if (units === 1) {
    const p = output.reshape([-1]);
    return classIndex === 1 ? p : tf.sub(1, p);
  }
  return output.slice([0, classIndex], [-1, 1]).reshape([-1]);
}

/**
 * Runs `model` on `input` (one preprocessed image, [1, h, w, c]) and returns the activations A of `layer` and
 * dScore/dA. tfjs cannot differentiate with respect to an intermediate tensor, and a functional model may route
 * around the layer (residual connections), so the head cannot be re-run from A alone. Instead the layer's output
 * gets a zero offset δ added for one forward pass: dScore/dδ equals dScore/dA, whatever the topology.
 */
function activationsAndGradients(
  model: tf.LayersModel,
  layer: tf.layers.Layer,
  input: tf.Tensor4D,
  classIndex: number,
): { activations: tf.Tensor; gradients: tf.Tensor } {
  const shape = [1, ...(spatialOutput(layer)?.shape.slice(1) ?? [])] as number[];
  const original = layer.call.bind(layer);
  let activations: tf.Tensor | undefined;
  const gradOf = tf.grad((offset: tf.Tensor) => {
    layer.call = (inputs, kwargs) => {
      const out = original(inputs, kwargs) as tf.Tensor;
      activations = tf.keep(out.clone());
      return tf.add(out, offset);
    };
    try {
      return classScore(model.apply(input, { training: false }) as tf.Tensor, classIndex).sum();
    } finally {
      layer.call = original;
    }
  });
  const offset = tf.zeros(shape);
  const gradients = gradOf(offset);
  offset.dispose();
  if (!activations) throw new PipelineError('STAGE_FAILED', `layer '${layer.name}' was not reached`);
  return { activations, gradients };
}

/** ReLU, then scaled so the maximum is 1 (all zeros stay zeros), as Keras' Grad-CAM example does. */
function normalize(map: tf.Tensor2D): HeatMap {
  const [height = 0, width = 0] = map.shape;
  const values = tf.tidy(() => {
    const positive = tf.relu(map);
    const max = positive.max();
    return tf.where(max.greater(0), positive.div(max.maximum(1e-12)), positive);
  });
  const data = values.dataSync() as Float32Array;
  values.dispose();
  return { width, height, values: Float32Array.from(data) };
}

/**
 * Grad-CAM (Selvaraju et al., 2017) for one image: the channels of a conv layer's output weighted by the spatial
 * mean of the class score's gradient, summed, ReLU, scaled to [0, 1]. `input` is one preprocessed image [1, h, w, c].
 */
export function gradCam(model: tf.LayersModel, input: tf.Tensor4D, options: CamOptions): HeatMap {
  const layer = layerNamed(model, options.layerName);
  const { activations, gradients } = activationsAndGradients(model, layer, input, options.classIndex);
  const map = tf.tidy<tf.Tensor2D>(() => {
    const weights = gradients.mean([0, 1, 2]);
    return activations.squeeze([0]).mul(weights).sum(-1);
  });
  activations.dispose();
  gradients.dispose();
  const heat = normalize(map);
  map.dispose();
  return heat;
}
