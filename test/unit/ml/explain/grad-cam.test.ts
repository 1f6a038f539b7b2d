/**
 * Grad-CAM and CAM against Keras: test/fixtures/make-grad-cam.py builds two tiny models (a Sequential CNN with one
 * sigmoid unit; a functional model whose last conv sits inside a residual block, ending in global pooling + softmax),
 * computes the maps with TF's GradientTape and stores weights, input and maps. The same models are built here.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/ml/backend.js';
import { camHead, classActivationMap, classActivationMaps } from '../../../../src/ml/explain/class-activation-map.js';
import { gradCam, gradCams, lastConvLayer, type HeatMap } from '../../../../src/ml/explain/grad-cam.js';
import { buildBasicCnn } from '../../../../src/ml/models/basic-cnn.js';

interface Case {
  layer: string;
  input: number[][][];
  output: number[];
  weights: Record<string, number[][]>;
  gradCam: Record<string, number[][]>;
  cam?: Record<string, number[][]>;
}
const fixture = JSON.parse(readFileSync(new URL('../../../fixtures/grad-cam.json', import.meta.url), 'utf8')) as {
  sequential: Case;
  residual: Case;
};

function sequentialCnn(): tf.LayersModel {
  const conv = (name: string, filters: number, inputShape?: number[]) =>
    tf.layers.conv2d({
      name,
      filters,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      ...(inputShape ? { inputShape } : {}),
    });
  return tf.sequential({
    layers: [
      conv('conv1', 4, [12, 12, 3]),
      tf.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }),
      conv('conv2', 6),
      tf.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }),
      tf.layers.flatten({ name: 'flatten' }),
      tf.layers.dense({ units: 5, activation: 'relu', name: 'dense' }),
      tf.layers.dense({ units: 1, activation: 'sigmoid', name: 'output' }),
    ],
  });
}

/** Residual block around the last conv: the class score depends on that conv's output and on the shortcut. */
function residualGap(): tf.LayersModel {
  const input = tf.input({ shape: [10, 10, 3], name: 'input' });
  const a = tf.layers
    .conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'stem_conv' })
    .apply(input) as tf.SymbolicTensor;
  const b = tf.layers
    .conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'block_conv' })
    .apply(a) as tf.SymbolicTensor;
  const added = tf.layers.add({ name: 'block_add' }).apply([a, b]) as tf.SymbolicTensor;
  const features = tf.layers.activation({ activation: 'relu', name: 'block_relu' }).apply(added) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(features) as tf.SymbolicTensor;
  const output = tf.layers
    .dense({ units: 3, activation: 'softmax', name: 'predictions' })
    .apply(pooled) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

function loadCase(model: tf.LayersModel, data: Case): tf.Tensor4D {
  for (const [name, weights] of Object.entries(data.weights)) {
    model.getLayer(name).setWeights(weights.map((w) => tf.tensor(w)));
  }
  return tf.tensor4d([data.input]);
}

function expectClose(actual: HeatMap, expected: number[][]): void {
  expect([actual.height, actual.width]).toEqual([expected.length, expected[0]?.length]);
  const flat = expected.flat();
  const worst = Math.max(...flat.map((value, i) => Math.abs(value - (actual.values[i] ?? NaN))));
  expect(worst).toBeLessThan(1e-4);
  expect(Math.max(...actual.values)).toBeCloseTo(1, 6);
}

beforeAll(async () => {
  await selectBackend('cpu');
});

describe('gradCam matches Keras', () => {
  it('on a Sequential CNN with one sigmoid unit, for both classes', () => {
    const model = sequentialCnn();
    const input = loadCase(model, fixture.sequential);
    const output = (model.predict(input) as tf.Tensor).dataSync();
    expect(output[0]).toBeCloseTo(fixture.sequential.output[0] ?? NaN, 5);
    expect(lastConvLayer(model).name).toBe(fixture.sequential.layer);
    for (const [classIndex, expected] of Object.entries(fixture.sequential.gradCam)) {
      expectClose(gradCam(model, input, { classIndex: Number(classIndex) }), expected);
    }
  });

  it('on a functional model whose last conv is inside a residual block', () => {
    const model = residualGap();
    const input = loadCase(model, fixture.residual);
    expect(lastConvLayer(model).name).toBe(fixture.residual.layer);
    for (const [classIndex, expected] of Object.entries(fixture.residual.gradCam)) {
      expectClose(gradCam(model, input, { classIndex: Number(classIndex) }), expected);
    }
  });

  it('a batch gives each image its own map, as one image at a time does (Grad-CAM and CAM)', () => {
    const model = residualGap();
    const one = loadCase(model, fixture.residual);
    const batch = tf.concat([one, one.reverse(1), one]);
    const classes = [2, 0, 1];
    const singles = classes.map((k, n) => {
      const image = batch.slice([n], [1]);
      return [gradCam(model, image, { classIndex: k }), classActivationMap(model, image, { classIndex: k })];
    });
    const grads = gradCams(model, batch, classes);
    const cams = classActivationMaps(model, batch, classes) ?? [];
    const worst = (a: HeatMap | undefined, b: HeatMap | undefined) =>
      Math.max(...Array.from(a?.values ?? [NaN]).map((v, i) => Math.abs(v - (b?.values[i] ?? NaN))));
    singles.forEach(([grad, cam], n) => {
      expect(worst(grads[n], grad)).toBeLessThan(1e-6);
      expect(worst(cams[n], cam)).toBeLessThan(1e-6);
    });
    expect(grads[0]?.values).not.toEqual(grads[1]?.values);
  });

  it('leaves the model as it was (same predictions after, no leaked tensors)', () => {
    const model = residualGap();
    const input = loadCase(model, fixture.residual);
    const before = Array.from((model.predict(input) as tf.Tensor).dataSync());
    const tensors = tf.memory().numTensors;
    gradCam(model, input, { classIndex: 1 });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(Array.from((model.predict(input) as tf.Tensor).dataSync())).toEqual(before);
  });
});

describe('classActivationMap (the CAM of models ending in global pooling + dense)', () => {
  it('matches Keras for every class of the residual model', () => {
    const model = residualGap();
    const input = loadCase(model, fixture.residual);
    for (const [classIndex, expected] of Object.entries(fixture.residual.cam ?? {})) {
      const map = classActivationMap(model, input, { classIndex: Number(classIndex) });
      if (!map) throw new Error('expected a CAM');
      expectClose(map, expected);
    }
  });

  it('applies only to global pooling + dense heads; the basic CNN (flatten + dense) gets Grad-CAM', () => {
    expect(camHead(residualGap())?.features.name).toBe('block_relu');
    const cnn = buildBasicCnn({ filters: [4, 8], denseUnits: 8, dropout: 0.5 }, { shape: [16, 16, 3], classCount: 2 });
    expect(camHead(cnn)).toBeUndefined();
    expect(lastConvLayer(cnn).name).toBe('conv2');
    const map = gradCam(cnn, tf.randomUniform<tf.Rank.R4>([1, 16, 16, 3], 0, 1, 'float32', 1), { classIndex: 0 });
    expect([map.height, map.width]).toEqual([8, 8]);
  });
});
