import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PipelineError } from '../../errors.js';
import { DEFAULT_MODEL, isModelName, type ModelName } from '../models/model-catalog.js';

/** What a trained model's folder says about it beside the weights, in `classes.json`. */
export interface ModelMeta {
  /** Class names, by label. */
  classes: string[];
  /** [height, width, channels] of the images it was trained on. */
  shape: [number, number, number];
  /** Its family, which says how to prepare pixels for it. */
  model: ModelName;
}

/** Writes `classes.json` into a model folder. */
export async function writeModelMeta(dir: string, meta: ModelMeta): Promise<void> {
  await writeFile(path.join(dir, 'classes.json'), JSON.stringify(meta));
}

/** Reads `classes.json`; a folder that names no family holds a basic CNN (written before there were others). */
export async function readModelMeta(dir: string): Promise<ModelMeta> {
  const file = path.join(dir, 'classes.json');
  const meta = JSON.parse(await readFile(file, 'utf8')) as Omit<ModelMeta, 'model'> & { model?: string };
  const model = meta.model ?? DEFAULT_MODEL;
  if (!isModelName(model)) throw new PipelineError('STORE_INVALID', `${file}: unknown model family '${model}'`);
  return { classes: meta.classes, shape: meta.shape, model };
}

/**
 * Saves a model in the standard tfjs layers format (`model.json` + `weights.bin`), readable by tfjs-node's
 * `file://` loader and by tensorflowjs_converter; works on every backend, including pure JS.
 */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = artifacts.weightData ? Buffer.from(concatWeights(artifacts.weightData)) : Buffer.alloc(0);
      const manifest = [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }];
      const modelJson = {
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        modelTopology: artifacts.modelTopology,
        weightsManifest: manifest,
      };
      await writeFile(path.join(dir, 'weights.bin'), weights);
      await writeFile(path.join(dir, 'model.json'), JSON.stringify(modelJson));
      return {
        modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.length },
      };
    }),
  );
}

/** Loads a model saved by {@link saveModel}. */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const modelJson = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const weights = await readFile(path.join(dir, 'weights.bin'));
  const weightSpecs = modelJson.weightsManifest.flatMap((group) => group.weights);
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs, weightData }));
}

function concatWeights(data: tf.io.WeightData): ArrayBuffer {
  if (!Array.isArray(data)) return data;
  return tf.io.concatenateArrayBuffers(data);
}
