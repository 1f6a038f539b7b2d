import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/ml/backend.js';
import { MODEL_CATALOG, MODEL_NAMES, type ModelName } from '../../../../src/ml/models/model-catalog.js';
import type { ModelInput } from '../../../../src/ml/models/model-input.js';
import { buildModel } from '../../../../src/ml/models/registry.js';
import { ROOT } from '../../../helpers/temp-project.js';

interface KerasLayer {
  name: string;
  className: string;
  outputShape: number[];
  params: number;
}

interface KerasCase {
  config: Record<string, unknown>;
  input: ModelInput;
  layers: KerasLayer[];
  totalParams: number;
}

/** Numbers from Keras 2.12 (test/fixtures/make-keras-models.py), per family. */
const KERAS = JSON.parse(readFileSync(path.join(ROOT, 'test', 'fixtures', 'keras-models.json'), 'utf8')) as {
  families: Partial<Record<ModelName, KerasCase[]>>;
};

const layersOf = (model: tf.LayersModel): KerasLayer[] =>
  model.layers.map((layer) => ({
    name: layer.name,
    className: layer.getClassName(),
    outputShape: (layer.outputShape as (number | null)[]).slice(1) as number[],
    params: layer.countParams(),
  }));

describe.each(MODEL_NAMES)('model family %s', (name) => {
  const cases = KERAS.families[name] ?? [];

  beforeAll(async () => {
    await selectBackend('cpu');
  });
  afterAll(() => tf.disposeVariables());

  it('has reference numbers from Keras', () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  it.each(cases.map((c) => [JSON.stringify(c.config), c.input.shape.join('×'), c.input.classCount, c]))(
    'config %s at %s, %i classes: same layers, names, output shapes and parameter counts as Keras',
    async (_config, _shape, _classes, reference) => {
      const config = MODEL_CATALOG[name].config.parse(reference.config);
      const model = await buildModel(name, config, reference.input);
      expect(layersOf(model)).toEqual(reference.layers);
      expect(model.countParams()).toBe(reference.totalParams);
      model.dispose();
    },
  );

  it('the backbone (every layer before the head) has the parameters Keras counts without its top', () => {
    for (const reference of cases) {
      const head = reference.layers.findIndex((layer) => layer.name === 'avg_pool');
      if (head < 0) continue;
      const backbone = reference.layers.slice(0, head);
      expect(backbone.length - 1).toBe(MODEL_CATALOG[name].backboneLayers);
      const params = backbone.reduce((sum, layer) => sum + layer.params, 0);
      // Keras' documented sizes without the top: ResNet50V2 23.5 M, MobileNetV2 2.26 M.
      if (name === 'resnet50v2') expect(params).toBe(23_564_800);
      if (name === 'mobilenetv2') expect(params).toBe(2_257_984);
    }
  });

  it('the first reference case is the default config at the input size the catalogue gives', () => {
    const { config, inputSize } = MODEL_CATALOG[name];
    expect(config.parse({})).toEqual(cases[0]?.config);
    expect(cases[0]?.input.shape.slice(0, 2)).toEqual([inputSize, inputSize]);
  });
});
