/**
 * The native backend (`@tensorflow/tfjs-node`, set up by scripts/setup-native-tf.mjs) must compute what the pure-JS
 * `cpu` backend computes: same weights and input give the same predictions and the same training losses.
 *
 * One process can switch between the two: importing tfjs-node registers `tensorflow` in the same tfjs engine, and
 * tf.setBackend() picks the active one. Weights travel between backends as plain Float32Arrays.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBasicCnn } from '../../src/ml/models/basic-cnn.js';
import { registerNativeGradients } from '../../src/ml/native-gradients.js';
import { compileClassifier } from '../../src/ml/train/optimizer.js';
import { parseTrainParams } from '../../src/stages/catalog.js';

// A variable, not a literal, so that TypeScript does not need tfjs-node's types when the optional package is absent.
const NATIVE_PACKAGE: string = '@tensorflow/tfjs-node';
const TOLERANCE = 1e-4;
const SHAPE: [number, number, number] = [16, 16, 3];
const BATCH = 8;
// Small version of the report's CNN; dropout 0 so a training step is deterministic and comparable across backends.
const PARAMS = parseTrainParams('basic-cnn', {
  filters: [4, 8, 8],
  denseUnits: 16,
  dropout: 0,
  optimizer: 'adam',
  lr: 1e-3,
});

/** Why tfjs-node cannot be used here, or undefined when it registered the `tensorflow` backend. */
async function nativeUnavailable(): Promise<string | undefined> {
  try {
    await import(NATIVE_PACKAGE);
    return tf.findBackendFactory('tensorflow') ? undefined : `${NATIVE_PACKAGE} loaded but registered no backend`;
  } catch (error) {
    return `${NATIVE_PACKAGE} does not load (${(error as Error).message.split('\n')[0] ?? ''})`;
  }
}

// Hides TF's start-up INFO lines (CPU feature guard); libtensorflow reads this when tfjs-node loads it.
process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
const skipReason = await nativeUnavailable();
// As selectBackend does: the native backend trains with TF's ReluGrad (src/ml/native-gradients.ts).
if (skipReason === undefined) registerNativeGradients();

interface WeightValues {
  shape: number[];
  values: Float32Array;
}

interface BackendRun {
  backend: string;
  predictions: Float32Array;
  losses: number[];
  predictionsAfterTraining: Float32Array;
}

/** Deterministic pseudo-random floats in [0, 1) (a 32-bit LCG), so both backends get bit-identical input. */
function fixedFloats(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 32;
  }
  return out;
}

const INPUT = fixedFloats(BATCH * SHAPE[0] * SHAPE[1] * SHAPE[2], 7);
const LABELS = Float32Array.from({ length: BATCH }, (_, i) => i % 2);

/** Initial weights, drawn once on the cpu backend and then given to every backend as plain arrays. */
async function initialWeights(): Promise<WeightValues[]> {
  await tf.setBackend('cpu');
  const model = buildBasicCnn(PARAMS, { shape: SHAPE, classCount: 2 });
  const weights = model.getWeights().map((w) => ({ shape: w.shape, values: w.dataSync() as Float32Array }));
  model.dispose();
  return weights;
}

async function predict(model: tf.LayersModel, x: tf.Tensor): Promise<Float32Array> {
  const output = model.predict(x) as tf.Tensor;
  const values = (await output.data()) as Float32Array;
  output.dispose();
  return values;
}

/** Predicts, takes two Adam steps (the second one sees the first update), and predicts again on `backend`. */
async function runOn(backend: 'cpu' | 'tensorflow', weights: WeightValues[]): Promise<BackendRun> {
  await tf.setBackend(backend);
  const model = buildBasicCnn(PARAMS, { shape: SHAPE, classCount: 2 });
  compileClassifier(model, PARAMS, 2);
  model.setWeights(weights.map((w) => tf.tensor(w.values, w.shape)));
  const x = tf.tensor4d(INPUT, [BATCH, ...SHAPE]);
  const y = tf.tensor2d(LABELS, [BATCH, 1]);
  const predictions = await predict(model, x);
  const losses: number[] = [];
  for (let step = 0; step < 2; step++) {
    // With metrics compiled, trainOnBatch returns [loss, accuracy].
    const result = await model.trainOnBatch(x, y);
    losses.push(Array.isArray(result) ? (result[0] ?? NaN) : result);
  }
  const predictionsAfterTraining = await predict(model, x);
  const run = { backend: tf.getBackend(), predictions, losses, predictionsAfterTraining };
  tf.dispose([x, y]);
  model.dispose();
  return run;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] ?? NaN) - (b[i] ?? NaN)));
  return max;
}

describe('native tensorflow backend', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  const title = skipReason
    ? `matches the pure-JS backend (skipped: ${skipReason}; run node scripts/setup-native-tf.mjs)`
    : 'matches the pure-JS backend on predictions and on two Adam steps from identical weights';

  it.skipIf(skipReason !== undefined)(title, async () => {
    const weights = await initialWeights();
    const js = await runOn('cpu', weights);
    const native = await runOn('tensorflow', weights);

    // Guards against a vacuous pass: both runs really used their backend, and the outputs are not all alike.
    expect([js.backend, native.backend]).toEqual(['cpu', 'tensorflow']);
    expect(Math.max(...js.predictions) - Math.min(...js.predictions)).toBeGreaterThan(1e-6);
    expect(js.losses[1]).not.toBe(js.losses[0]);

    expect(maxAbsDiff(native.predictions, js.predictions)).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(native.losses, js.losses)).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(native.predictionsAfterTraining, js.predictionsAfterTraining)).toBeLessThan(TOLERANCE);
  });
});
