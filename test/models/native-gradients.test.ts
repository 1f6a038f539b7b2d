/**
 * The gradients that src/ml/native-gradients.ts replaces on the native backend must equal tfjs' own: the ReLU gradient
 * alone, and every weight gradient of a small version of the report's CNN, within 1e-5. The same test shows that the
 * replacement is really used (tfjs' ReLU gradient runs the `Step` kernel; ours does not).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBasicCnn } from '../../src/ml/models/basic-cnn.js';
import { registerNativeGradients, reluGrad } from '../../src/ml/native-gradients.js';
import { parseTrainParams } from '../../src/stages/catalog.js';

const NATIVE_PACKAGE: string = '@tensorflow/tfjs-node';
const TOLERANCE = 1e-5;
const SHAPE: [number, number, number] = [16, 16, 3];
const PARAMS = parseTrainParams('basic-cnn', { filters: [4, 8, 8], denseUnits: 16, dropout: 0 });

process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
const skipReason = await import(NATIVE_PACKAGE).then(
  () => (tf.findBackendFactory('tensorflow') ? undefined : 'tfjs-node registered no backend'),
  (error: Error) => `${NATIVE_PACKAGE} does not load (${error.message.split('\n')[0] ?? ''})`,
);

/** tfjs-core's own ReLU gradient (gradients/Relu_grad.ts), to put back as the reference. */
function registerTfjsReluGradient(): void {
  tf.registerGradient({
    kernelName: tf.Relu,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as tf.Tensor, tf.cast(tf.step(saved[0]!), 'float32')) }),
  });
}

/** Values with exact zeros, negatives and positives, so the x = 0 edge of the gradient is covered. */
function mixedValues(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = i % 7 === 0 ? 0 : state / 2 ** 31 - 1;
  }
  return out;
}

/** Kernel names tfjs dispatched while `f` ran. */
async function kernelsOf(f: () => tf.Tensor | tf.Tensor[]): Promise<string[]> {
  const info = await tf.profile(() => f());
  return info.kernels.map((kernel) => kernel.name);
}

/** Loss gradients of every trainable weight of the small CNN, from fixed weights and input. */
async function cnnGradients(weights: tf.Tensor[]): Promise<{ grads: Float32Array[]; kernels: string[] }> {
  const model = buildBasicCnn(PARAMS, { shape: SHAPE, classCount: 2 });
  model.setWeights(weights);
  const x = tf.tensor4d(mixedValues(4 * SHAPE[0] * SHAPE[1] * SHAPE[2], 3), [4, ...SHAPE]);
  const y = tf.tensor2d([0, 1, 1, 0], [4, 1]);
  const loss = (): tf.Scalar => tf.losses.sigmoidCrossEntropy(y, model.predict(x) as tf.Tensor);
  const { grads } = tf.variableGrads(loss);
  const values = model.trainableWeights.map((w) => grads[(w.read() as tf.Variable).name]!.dataSync() as Float32Array);
  const kernels = await kernelsOf(() => Object.values(tf.variableGrads(loss).grads));
  tf.dispose([x, y, ...Object.values(grads)]);
  model.dispose();
  return { grads: values, kernels };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] ?? NaN) - (b[i] ?? NaN)));
  return max;
}

describe.skipIf(skipReason !== undefined)(`native gradients${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  afterAll(async () => {
    registerNativeGradients();
    await tf.setBackend('cpu');
  });

  it('ReluGrad equals dy * step(x), including x = 0', async () => {
    await tf.setBackend('tensorflow');
    const x = tf.tensor(mixedValues(2 * 8 * 8 * 4, 1), [2, 8, 8, 4]);
    const dy = tf.tensor(mixedValues(2 * 8 * 8 * 4, 2), [2, 8, 8, 4]);
    const ours = reluGrad(dy, x);
    const theirs = tf.mul(dy, tf.cast(tf.step(x), 'float32'));
    expect(ours.shape).toEqual(x.shape);
    expect(maxAbsDiff(ours.dataSync(), theirs.dataSync())).toBeLessThan(TOLERANCE);
    // Not vacuous: the gradient keeps some of dy and zeroes some.
    expect(ours.dataSync().filter((v) => v === 0).length).toBeGreaterThan(0);
    expect(ours.dataSync().filter((v) => v !== 0).length).toBeGreaterThan(0);
    tf.dispose([x, dy, ours, theirs]);
  });

  it("gives the CNN's weight gradients of tfjs' own ReLU gradient, without its Step kernels", async () => {
    await tf.setBackend('tensorflow');
    const model = buildBasicCnn(PARAMS, { shape: SHAPE, classCount: 2 });
    const weights = model.getWeights().map((w) => w.clone());
    model.dispose();

    registerTfjsReluGradient();
    const reference = await cnnGradients(weights);
    registerNativeGradients();
    const native = await cnnGradients(weights);

    // Five ReLUs (3 conv, 1 dense, and one inside sigmoidCrossEntropy) no longer run Step; the loss's abs() still does.
    const steps = (kernels: string[]) => kernels.filter((name) => name === 'Step').length;
    expect(steps(native.kernels)).toBe(steps(reference.kernels) - 5);
    expect(native.grads.length).toBe(reference.grads.length);
    native.grads.forEach((grad, k) => {
      expect(maxAbsDiff(grad, reference.grads[k]!)).toBeLessThan(TOLERANCE);
    });
    expect(Math.max(...reference.grads.map((g) => Math.max(...g.map(Math.abs))))).toBeGreaterThan(1e-4);
    tf.dispose(weights);
  });
});
