import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PipelineError } from '../../../../src/errors.js';
import { selectBackend } from '../../../../src/ml/backend.js';
import { buildBasicCnn } from '../../../../src/ml/models/basic-cnn.js';
import { loadModel, readModelMeta, saveModel, writeModelMeta } from '../../../../src/ml/train/model-io.js';
import { tempDir } from '../../../helpers/temp-project.js';

describe('model folders', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('a saved model loads with the same layers and weights', async () => {
    const model = buildBasicCnn(
      { filters: [2, 3, 4], denseUnits: 5, dropout: 0.5 },
      { shape: [8, 8, 3], classCount: 2 },
    );
    const dir = path.join(tempDir(), 'model');
    await saveModel(model, dir);
    const loaded = await loadModel(dir);
    expect(loaded.layers.map((layer) => layer.name)).toEqual(model.layers.map((layer) => layer.name));
    const weights = (m: tf.LayersModel) => m.getWeights().map((w) => [...w.dataSync()]);
    expect(weights(loaded)).toEqual(weights(model));
  });

  it('the meta names the family; a folder from before families were recorded holds a basic CNN', async () => {
    const dir = tempDir();
    await writeModelMeta(dir, { classes: ['a', 'b'], shape: [16, 16, 3], model: 'basic-cnn' });
    expect(await readModelMeta(dir)).toEqual({ classes: ['a', 'b'], shape: [16, 16, 3], model: 'basic-cnn' });
    writeFileSync(path.join(dir, 'classes.json'), JSON.stringify({ classes: ['a', 'b'], shape: [16, 16, 3] }));
    expect((await readModelMeta(dir)).model).toBe('basic-cnn');
  });

  it('an unknown family is an invalid store, named with its file', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'classes.json'), JSON.stringify({ classes: ['a'], shape: [4, 4, 3], model: 'lenet' }));
    const error = (await readModelMeta(dir).catch((e: unknown) => e)) as PipelineError;
    expect(error).toBeInstanceOf(PipelineError);
    expect(error.code).toBe('STORE_INVALID');
    expect(error.message).toBe(`${path.join(dir, 'classes.json')}: unknown model family 'lenet'`);
  });
});
