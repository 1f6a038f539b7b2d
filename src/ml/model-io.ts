import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

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
