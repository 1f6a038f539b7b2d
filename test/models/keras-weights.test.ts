import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/ml/backend.js';
import { embeddingModel } from '../../src/ml/models/backbone.js';
import { MODEL_CATALOG } from '../../src/ml/models/model-catalog.js';
import { buildModel } from '../../src/ml/models/registry.js';
import { loadWeightsFile } from '../../src/ml/models/weights.js';
import { ROOT, tempDir } from '../helpers/temp-project.js';

/**
 * Keras' own ResNet50V2 (random weights with a fixed seed: nothing is downloaded), written in tfjs Layers format by
 * test/fixtures/make-keras-weights.py, loaded by name into the tfjs resnet50v2: the same predictions and pooled
 * features as Keras on the same input. The weights are ~94 MB, so they are generated here, never committed; without
 * a `.venv-keras` (TensorFlow 2.12) in the repository root the test is skipped and says so.
 */
const PYTHON = path.join(ROOT, '.venv-keras', 'bin', 'python');
const SIZE = 32;
const hasKeras = existsSync(PYTHON);
if (!hasKeras) console.warn(`keras-weights: skipped, no ${PYTHON} (see test/fixtures/make-keras-weights.py)`);

interface KerasOutputs {
  count: number;
  predictions: number[];
  features: number[][];
}

describe.skipIf(!hasKeras)('Keras ResNet50V2 weights in tfjs Layers format', () => {
  let dir = '';
  let keras: KerasOutputs;

  beforeAll(async () => {
    await selectBackend('cpu');
    dir = tempDir('pipeline-keras-weights-');
    execFileSync(PYTHON, [path.join(ROOT, 'test/fixtures/make-keras-weights.py'), dir, String(SIZE)], {
      stdio: 'pipe',
    });
    keras = JSON.parse(readFileSync(path.join(dir, 'keras-outputs.json'), 'utf8')) as KerasOutputs;
  });
  afterAll(() => {
    tf.disposeVariables();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('load by layer name and give Keras’ predictions and pooled features within 1e-4', async () => {
    const config = MODEL_CATALOG.resnet50v2.config.parse({});
    const model = await buildModel('resnet50v2', config, { shape: [SIZE, SIZE, 3], classCount: 2 });
    await loadWeightsFile(model, dir, 'all', 'keras weights');
    const bytes = readFileSync(path.join(dir, 'input.bin'));
    const input = tf.tensor4d(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4), [
      keras.count,
      SIZE,
      SIZE,
      3,
    ]);
    const predictions = Array.from((model.predict(input) as tf.Tensor).dataSync());
    const features = (embeddingModel(model).predict(input) as tf.Tensor).arraySync() as number[][];
    predictions.forEach((value, i) => expect(Math.abs(value - (keras.predictions[i] ?? NaN))).toBeLessThan(1e-4));
    const worst = Math.max(
      ...features.flatMap((row, i) => row.map((v, j) => Math.abs(v - (keras.features[i]?.[j] ?? NaN)))),
    );
    expect(worst).toBeLessThan(1e-4);
    // Not vacuous: the features differ between images, and a fresh (unloaded) model gives other ones.
    expect(features[0]).not.toEqual(features[1]);
    const fresh = await buildModel('resnet50v2', config, { shape: [SIZE, SIZE, 3], classCount: 2 });
    const freshFeatures = (embeddingModel(fresh).predict(input) as tf.Tensor).arraySync() as number[][];
    expect(
      Math.abs((freshFeatures[0]?.[0] ?? 0) - (keras.features[0]?.[0] ?? 0)) +
        Math.abs((freshFeatures[1]?.[5] ?? 0) - (keras.features[1]?.[5] ?? 0)),
    ).toBeGreaterThan(1e-4);
    model.dispose();
    fresh.dispose();
  });

  it('the backbone loads alone (transfer learning), into a head for another class count', async () => {
    const config = MODEL_CATALOG.resnet50v2.config.parse({});
    const model = await buildModel('resnet50v2', config, { shape: [SIZE, SIZE, 3], classCount: 3 });
    await loadWeightsFile(model, dir, 'backbone', 'keras weights');
    const conv = model.getLayer('conv5_block3_3_conv').getWeights()[0]?.dataSync() ?? new Float32Array();
    expect(conv.length).toBeGreaterThan(0);
    await expect(loadWeightsFile(model, dir, 'all', 'keras weights')).rejects.toThrow(
      /weight predictions\/kernel has shape \[2048, 1\], model 'resnet50v2' needs \[2048, 3\]/,
    );
    model.dispose();
  });
});
