import { describe, expect, it } from 'vitest';
import { loggedModelRecord, type ModelFacts } from '../../../src/tracking/logged-model.js';

const facts: ModelFacts = {
  root: '/ws/nodes/k/model',
  files: ['classes.json', 'model.json', 'weights.bin'],
  classes: ['with_mask', 'without_mask'],
  shape: [64, 64, 3],
  family: 'basic-cnn',
  tfjsVersion: '4.22.0',
  preprocess: 'unit',
};
const placement = { runId: 'p/t01', key: 'p|k', node: 'k', name: 's-t01', step: 9, params: {}, tags: {} };

describe('loggedModelRecord', () => {
  it('describes the files in a tfjs flavour and the model as uint8 images in, probabilities out', () => {
    const record = loggedModelRecord(facts, placement);
    expect(record).toMatchObject({ t: 'model', id: 'p/t01', key: 'p|k', type: 'tfjs', step: 9, files: facts.files });
    const { flavors, signature } = record.mlmodel as {
      flavors: Record<string, Record<string, unknown>>;
      signature: { inputs: string; outputs: string };
    };
    expect(flavors.tfjs).toEqual({
      format: 'layers-model',
      model_json: 'model.json',
      weights: ['weights.bin'],
      classes_json: 'classes.json',
      family: 'basic-cnn',
      classes: ['with_mask', 'without_mask'],
      input_shape: [64, 64, 3],
      preprocess: 'unit',
      tfjs_version: '4.22.0',
    });
    expect(JSON.parse(signature.inputs)).toEqual([
      { type: 'tensor', 'tensor-spec': { dtype: 'uint8', shape: [-1, 64, 64, 3] } },
    ]);
    // Two classes: one sigmoid output, the probability of the second class.
    expect(JSON.parse(signature.outputs)).toEqual([
      { type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1, 1] } },
    ]);
    const three = loggedModelRecord({ ...facts, classes: ['a', 'b', 'c'] }, placement).mlmodel.signature as {
      outputs: string;
    };
    expect(JSON.parse(three.outputs)).toEqual([
      { type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1, 3] } },
    ]);
  });

  it('adds the python_function flavour and its files only when the pixel preprocessing is known', () => {
    const record = loggedModelRecord(facts, placement);
    expect((record.mlmodel.flavors as Record<string, unknown>).python_function).toMatchObject({
      loader_module: 'pipeline_tfjs_loader',
      code: 'code',
    });
    expect(Object.keys(record.inline).sort()).toEqual([
      'code/pipeline_tfjs_loader.py',
      'conda.yaml',
      'python_env.yaml',
      'requirements.txt',
    ]);
    const unknown = loggedModelRecord({ ...facts, preprocess: undefined }, placement);
    expect(Object.keys(unknown.mlmodel.flavors as object)).toEqual(['tfjs']);
    expect(unknown.inline).toEqual({});
  });
});
