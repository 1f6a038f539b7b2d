import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { NonRetryableStageError } from '../../errors.js';
import { HEAD_FIRST_LAYER } from './transfer-head.js';

/** A tfjs Layers model file: the topology is not needed, only the weights manifest. */
interface LayersModelFile {
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/** `model.json` itself, or the one inside a folder. */
export function modelJsonPath(source: string): string {
  return existsSync(source) && statSync(source).isDirectory() ? path.join(source, 'model.json') : source;
}

/**
 * Reads every weight of a tfjs Layers model (`model.json` + its weight files, as `tensorflowjs_converter` or tfjs'
 * `model.save` write them; quantized weights are dequantized), by name (`conv1_conv/kernel`). The caller disposes them.
 */
export async function readLayersWeights(source: string): Promise<tf.NamedTensorMap> {
  const file = modelJsonPath(source);
  const json = JSON.parse(await readFile(file, 'utf8')) as LayersModelFile;
  const specs = json.weightsManifest.flatMap((group) => group.weights);
  const buffers = await Promise.all(
    json.weightsManifest.flatMap((group) => group.paths).map((name) => readFile(path.join(path.dirname(file), name))),
  );
  const data = Buffer.concat(buffers);
  return tf.io.decodeWeights(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength), specs);
}

/** Which of a model's weights {@link assignWeights} sets: the backbone's (transfer learning) or all of them. */
export type WeightScope = 'backbone' | 'all';

/** The weights of `model` in `scope`, by their layer-scoped names (`post_bn/moving_mean`). */
function weightsInScope(model: tf.LayersModel, scope: WeightScope): tf.LayerVariable[] {
  const head = model.layers.findIndex((layer) => layer.name === HEAD_FIRST_LAYER);
  const layers = scope === 'all' || head < 0 ? model.layers : model.layers.slice(0, head);
  return layers.flatMap((layer) => layer.weights);
}

/**
 * Sets the weights of `model` in `scope` from `weights` by name. Every one must be there with the same shape, or
 * nothing is set and the error (one line, naming `what`) says which ones miss: weights of another architecture never
 * load half-way. Weights the model lacks (a Keras top, another head) are ignored.
 */
export function assignWeights(model: tf.LayersModel, weights: tf.NamedTensorMap, scope: WeightScope, what: string) {
  const targets = weightsInScope(model, scope);
  const missing = targets.filter((target) => !(target.originalName in weights)).map((target) => target.originalName);
  if (missing.length > 0) {
    const names = missing.slice(0, 3).join(', ');
    throw new NonRetryableStageError(
      `${what}: no weights named ${names}${missing.length > 3 ? ` (and ${missing.length - 3} more)` : ''}; ` +
        `its layer names do not match model '${model.name}'`,
    );
  }
  const mismatch = targets.find((target) => String(weights[target.originalName]?.shape) !== String(target.shape));
  if (mismatch) {
    const found = weights[mismatch.originalName]?.shape ?? [];
    throw new NonRetryableStageError(
      `${what}: weight ${mismatch.originalName} has shape [${found.join(', ')}], model '${model.name}' needs [${mismatch.shape.join(', ')}]`,
    );
  }
  for (const target of targets) {
    const value = weights[target.originalName];
    if (value) target.write(value);
  }
}

/** Reads `source` ({@link readLayersWeights}) into `model`'s weights in `scope` ({@link assignWeights}). */
export async function loadWeightsFile(model: tf.LayersModel, source: string, scope: WeightScope, what: string) {
  if (!existsSync(modelJsonPath(source)))
    throw new NonRetryableStageError(`${what}: ${modelJsonPath(source)} not found`);
  const weights = await readLayersWeights(source);
  try {
    assignWeights(model, weights, scope, what);
  } finally {
    tf.dispose(Object.values(weights));
  }
}

/**
 * The weights a family ships in an installed package, by name: nsfwjs' MobileNetV2 (a tfjs Layers model whose
 * quantized weights are a base64 JS module), loaded through the package's own `nsfwjs/models/mobilenet_v2` export.
 * Nothing is downloaded. The caller disposes them.
 */
export async function readPackagedWeights(source: 'nsfwjs'): Promise<tf.NamedTensorMap> {
  switch (source) {
    case 'nsfwjs': {
      const { MobileNetV2Model } = await import('nsfwjs/models/mobilenet_v2');
      const json = ((await MobileNetV2Model.modelJson()) as { default: LayersModelFile }).default;
      const bundles = await Promise.all(MobileNetV2Model.weightBundles.map((load) => load()));
      const data = Buffer.concat(bundles.map((bundle) => Buffer.from(bundle.default, 'base64')));
      const specs = json.weightsManifest.flatMap((group) => group.weights);
      return tf.io.decodeWeights(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength), specs);
    }
  }
}
