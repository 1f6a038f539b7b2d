/**
 * Where a native (tfjs-node) training step of the benchmark CNN spends its time, to explain the gap to Keras:
 * kernel times of a few trainOnBatch calls (tf.profile), and the ReLU gradient as tfjs computes it (dy * step(x))
 * next to TF's fused ReluGrad op, called directly through tfjs-node's binding, on the CNN's activation shapes.
 *
 *   npx tsx bench/native-step-profile.ts
 */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { selectBackend } from '../src/ml/backend.js';
import { buildBasicCnn } from '../src/ml/models/basic-cnn.js';
import { compileClassifier } from '../src/ml/train/optimizer.js';
import { BENCH_PARAMS, IMAGE_SIZE } from './lib/result.js';

const STEPS = 10;
const BATCH = BENCH_PARAMS.batchSize;
/** Outputs of the three conv layers for one batch: where the ReLU gradients of a step are taken. */
const CONV_ACTIVATIONS = BENCH_PARAMS.filters.map((filters, k) => {
  const side = IMAGE_SIZE / 2 ** k;
  return [BATCH, side, side, filters];
});

interface NativeBackend {
  executeSingleOutput(op: string, attrs: unknown[], inputs: tf.Tensor[]): tf.Tensor;
}

async function timeMs(steps: number, body: () => Promise<void> | void): Promise<number> {
  await body(); // warm-up: first calls allocate and pick kernels
  const start = performance.now();
  for (let i = 0; i < steps; i++) await body();
  return (performance.now() - start) / steps;
}

async function profileTrainingStep(): Promise<void> {
  const shape: [number, number, number] = [IMAGE_SIZE, IMAGE_SIZE, 3];
  const model = buildBasicCnn(BENCH_PARAMS, { shape, classCount: 2 });
  compileClassifier(model, BENCH_PARAMS, 2);
  const x = tf.randomUniform([BATCH, ...shape]);
  const y = tf.randomUniform([BATCH, 1]).round();
  const stepMs = await timeMs(STEPS, async () => void (await model.trainOnBatch(x, y)));
  const profile = await tf.profile(async () => {
    for (let i = 0; i < STEPS; i++) await model.trainOnBatch(x, y);
  });
  // Kernel times nest (Step calls Select, Fill, ...), so they add up to more than the step; read them one by one.
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const kernel of profile.kernels) {
    const entry = byKernel.get(kernel.name) ?? { ms: 0, calls: 0 };
    entry.ms += Number(kernel.kernelTimeMs) / STEPS;
    entry.calls += 1 / STEPS;
    byKernel.set(kernel.name, entry);
  }
  console.log(
    `trainOnBatch: ${stepMs.toFixed(1)} ms per batch of ${BATCH}, ${profile.kernels.length / STEPS} kernel calls`,
  );
  console.log('kernel                   ms/batch  calls/batch');
  const top = [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12);
  for (const [name, { ms, calls }] of top) {
    console.log(`${name.padEnd(24)} ${ms.toFixed(1).padStart(8)}  ${Math.round(calls).toString().padStart(11)}`);
  }
  tf.dispose([x, y]);
  model.dispose();
}

async function compareReluGradients(): Promise<void> {
  const backend = tf.backend() as unknown as NativeBackend;
  // tfjs-node's helper builds the `T` (dtype) attribute the way its own kernels do.
  const { createTensorsTypeOpAttr } = createRequire(import.meta.url)(
    '@tensorflow/tfjs-node/dist/nodejs_kernel_backend.js',
  ) as { createTensorsTypeOpAttr: (name: string, dtype: string) => unknown };
  const dtype = createTensorsTypeOpAttr('T', 'float32');
  const xs = CONV_ACTIVATIONS.map((shape) => tf.randomNormal(shape));
  const dys = CONV_ACTIVATIONS.map((shape) => tf.randomNormal(shape));
  const run = (grad: (dy: tf.Tensor, x: tf.Tensor) => tf.Tensor) => () =>
    tf.tidy(() => xs.forEach((x, k) => void grad(dys[k] ?? x, x).dataSync()));
  const viaStep = await timeMs(
    STEPS,
    run((dy, x) => tf.mul(dy, tf.step(x))),
  );
  const viaReluGrad = await timeMs(
    STEPS,
    run((dy, x) => backend.executeSingleOutput('ReluGrad', [dtype], [dy, x])),
  );
  console.log(
    `\nReLU gradients of the 3 conv layers, one batch: dy*step(x) ${viaStep.toFixed(1)} ms, ReluGrad ${viaReluGrad.toFixed(1)} ms`,
  );
  tf.dispose([...xs, ...dys]);
}

process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
await selectBackend('tensorflow');
await profileTrainingStep();
await compareReluGradients();
