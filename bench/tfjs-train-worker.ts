/**
 * Trains the benchmark CNN on one tfjs backend and writes a ThroughputResult (or the reason it was skipped) as JSON.
 * Run by train-throughput.ts in a child process per backend, because selectBackend() binds a process to one backend.
 *
 *   node --import tsx bench/tfjs-train-worker.ts --backend cpu|tensorflow --images F.npy --labels F.npy --count N --out F.json
 *                                               [--model basic-cnn|resnet50v2] [--batch-size B] [--lr LR]
 *
 * `resnet50v2` is the ResNet report's setting: Keras' ResNet50V2 from fresh initializers, trained end to end with the
 * transfer head (global average pooling, dropout 0.5, sigmoid), Adam, at the images' own size.
 */
import * as tf from '@tensorflow/tfjs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { selectBackend } from '../src/ml/backend.js';
import { buildBasicCnn } from '../src/ml/models/basic-cnn.js';
import { buildResnet50v2 } from '../src/ml/models/resnet-v2.js';
import { compileClassifier } from '../src/ml/train/optimizer.js';
import { imagesTensor, labelsTensor } from '../src/ml/train/tensors.js';
import { cpuSnapshot, cpuUse, type CpuSnapshot } from './lib/cpu-usage.js';
import { readNpyU8 } from './lib/npy.js';
import { BENCH_PARAMS, threadSettings, throughput, type FitTiming, type RunnerResult } from './lib/result.js';

type TfjsBackend = 'cpu' | 'tensorflow';
type BenchModel = 'basic-cnn' | 'resnet50v2';

interface WorkerArgs {
  backend: TfjsBackend;
  imagesFile: string;
  labelsFile: string;
  count: number;
  epochs: number;
  out: string;
  model: BenchModel;
  batchSize: number;
  lr: number;
}

function parseWorkerArgs(): WorkerArgs {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string' },
      images: { type: 'string' },
      labels: { type: 'string' },
      count: { type: 'string' },
      epochs: { type: 'string' },
      out: { type: 'string' },
      model: { type: 'string', default: 'basic-cnn' },
      'batch-size': { type: 'string', default: String(BENCH_PARAMS.batchSize) },
      lr: { type: 'string', default: String(BENCH_PARAMS.lr) },
    },
  });
  const { backend, images, labels, count, epochs, out, model } = values;
  if (model !== 'basic-cnn' && model !== 'resnet50v2') throw new Error('--model: basic-cnn or resnet50v2');
  if ((backend !== 'cpu' && backend !== 'tensorflow') || !images || !labels || !count || !out) {
    throw new Error('usage: --backend cpu|tensorflow --images F --labels F --count N [--epochs N] --out F');
  }
  const epochCount = epochs === undefined ? BENCH_PARAMS.epochs : Number(epochs);
  const common: Pick<WorkerArgs, 'model' | 'batchSize' | 'lr'> = {
    model,
    batchSize: Number(values['batch-size']),
    lr: Number(values.lr),
  };
  return { backend, imagesFile: images, labelsFile: labels, count: Number(count), epochs: epochCount, out, ...common };
}

/** A missing or broken tfjs-node is a skip, not a failure: the pure-JS backend is the project's baseline. */
async function activate(backend: TfjsBackend): Promise<string | undefined> {
  try {
    await selectBackend(backend);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

async function train(args: WorkerArgs): Promise<RunnerResult> {
  const name = `tfjs-${args.backend}`;
  const skipReason = await activate(args.backend);
  if (skipReason !== undefined) return { status: 'skipped', backend: name, reason: skipReason };

  const [images, labels] = await Promise.all([readNpyU8(args.imagesFile), readNpyU8(args.labelsFile)]);
  const [, height = 0, width = 0, channels = 0] = images.shape;
  const shape: [number, number, number] = [height, width, channels];
  const count = Math.min(args.count, images.shape[0] ?? 0);
  const indices = Array.from({ length: count }, (_, i) => i);
  const x = imagesTensor(images.data, shape, indices, 'unit');
  const y = labelsTensor([...labels.data.subarray(0, count)], 2);
  const params = { ...BENCH_PARAMS, epochs: args.epochs, batchSize: args.batchSize, lr: args.lr };
  const input = { shape, classCount: 2 };
  const model =
    args.model === 'resnet50v2'
      ? buildResnet50v2({ inputSize: height, dropout: 0.5, pretrained: false, freeze: 'none' }, input)
      : buildBasicCnn(params, input);
  compileClassifier(model, params, 2);

  const timing: FitTiming = { start: 0, firstBatchEnd: 0, end: 0 };
  let cpuAtFirstBatch: CpuSnapshot | undefined;
  timing.start = performance.now();
  const history = await model.fit(x, y, {
    batchSize: params.batchSize,
    epochs: params.epochs,
    shuffle: true,
    verbose: 0,
    // tfjs resolves the batch's loss before calling onBatchEnd, so the first batch has really finished here.
    callbacks: {
      onBatchEnd: () => {
        if (timing.firstBatchEnd !== 0) return;
        timing.firstBatchEnd = performance.now();
        cpuAtFirstBatch = cpuSnapshot();
      },
    },
  });
  timing.end = performance.now();
  const cpuAtEnd = cpuSnapshot();

  const losses = history.history.loss ?? [];
  return {
    status: 'ok',
    backend: name,
    images: count,
    epochs: params.epochs,
    batchSize: params.batchSize,
    ...throughput(timing, count, params.epochs, params.batchSize),
    cpu: cpuUse(cpuAtFirstBatch ?? cpuAtEnd, cpuAtEnd),
    finalLoss: Number(losses[losses.length - 1] ?? NaN),
    versions: tfjsVersions(),
    threads: args.backend === 'cpu' ? 'single JS thread' : threadSettings(),
  };
}

function tfjsVersions(): Record<string, string> {
  const versions: Record<string, string> = { tfjs: tf.version.tfjs };
  // tf.version here is @tensorflow/tfjs's own table; tfjs-node keeps its version and its C library to itself.
  const binding = (tf.backend() as { binding?: { TF_Version?: string } }).binding;
  if (binding?.TF_Version) {
    const manifest = createRequire(import.meta.url)('@tensorflow/tfjs-node/package.json') as { version: string };
    versions['tfjs-node'] = manifest.version;
    versions.libtensorflow = binding.TF_Version;
  }
  return versions;
}

const args = parseWorkerArgs();
await writeFile(args.out, JSON.stringify(await train(args), null, 2));
