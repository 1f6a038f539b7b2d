/**
 * Training throughput of the report's CNN on tfjs pure JS (`cpu`), tfjs native (`tensorflow`, when tfjs-node is
 * installed) and Keras, on identical pixels. Writes bench/results/train-throughput.json and prints a table.
 *
 *   npx tsx bench/train-throughput.ts [--images 1024] [--js-images 32] [--epochs 3] [--rounds 5]
 *                                     [--backends tfjs-tensorflow,keras,tfjs-cpu] [--data-dir D] [--python P] [--out F]
 *
 * Every run trains in its own process, one after the other, so runs never compete for the cores. The fast backends
 * (native tfjs, Keras) run `--rounds` times, alternating which goes first; pure JS, at ~0.1 img/s, runs once at the end.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadFaceMask } from './lib/dataset.js';
import { writeNpyU8 } from './lib/npy.js';
import {
  DISTURBED_SHARE,
  formatRuns,
  formatSummaries,
  median,
  othersShare,
  pairedRatios,
  summarize,
  type BackendSummary,
  type RoundResult,
} from './lib/report.js';
import { BENCH_PARAMS, IMAGE_SIZE, type RunnerResult } from './lib/result.js';

const REPO_ROOT = path.resolve(import.meta.dirname, '..');
const RESULT_FILE = path.join(REPO_ROOT, 'bench/results/train-throughput.json');
const BACKEND_NAMES = ['tfjs-tensorflow', 'keras', 'tfjs-cpu'];
/** Target of the native backend: at least as many images/s as Keras on the same machine. */
const TARGET_NATIVE_OVER_KERAS = 1.0;

interface BenchArgs {
  images: number;
  jsImages: number;
  epochs: number;
  rounds: number;
  dataDir: string;
  python: string;
  backends: string[];
  out: string;
  /** `basic-cnn` (the CNN report's model) or `resnet50v2` (the ResNet report's, from fresh initializers). */
  model: 'basic-cnn' | 'resnet50v2';
  batchSize: number;
  lr: number;
}

interface Runner {
  backend: string;
  count: number;
  command: string;
  args: string[];
}

function parseBenchArgs(): BenchArgs {
  const { values } = parseArgs({
    options: {
      images: { type: 'string', default: '1024' },
      // Pure JS trains at ~0.1 img/s (its Conv2DBackpropFilter is a plain loop): 32 images x 3 epochs take ~15 min.
      'js-images': { type: 'string', default: '32' },
      epochs: { type: 'string', default: String(BENCH_PARAMS.epochs) },
      rounds: { type: 'string', default: '5' },
      'data-dir': { type: 'string', default: path.resolve(REPO_ROOT, '../shared/datasets/face-mask') },
      python: { type: 'string', default: path.join(REPO_ROOT, '.venv-bench/bin/python') },
      // A subset is for trying things out; the published JSON comes from a run of all three.
      backends: { type: 'string', default: BACKEND_NAMES.join(',') },
      out: { type: 'string', default: RESULT_FILE },
      model: { type: 'string', default: 'basic-cnn' },
      'batch-size': { type: 'string', default: String(BENCH_PARAMS.batchSize) },
      lr: { type: 'string', default: String(BENCH_PARAMS.lr) },
    },
  });
  const model = values.model;
  if (model !== 'basic-cnn' && model !== 'resnet50v2') throw new Error('--model: basic-cnn or resnet50v2');
  const args: BenchArgs = {
    images: Number(values.images),
    jsImages: Number(values['js-images']),
    epochs: Number(values.epochs),
    rounds: Number(values.rounds),
    dataDir: path.resolve(values['data-dir']),
    python: values.python,
    backends: values.backends.split(','),
    out: path.resolve(values.out),
    model,
    batchSize: Number(values['batch-size']),
    lr: Number(values.lr),
  };
  const unknown = args.backends.filter((name) => !BACKEND_NAMES.includes(name));
  if (unknown.length > 0)
    throw new Error(`--backends: unknown ${unknown.join(', ')}; known: ${BACKEND_NAMES.join(', ')}`);
  for (const key of ['images', 'jsImages', 'epochs', 'rounds'] as const) {
    if (!Number.isInteger(args[key]) || args[key] < 1) throw new Error(`--${key} must be a positive integer`);
  }
  return args;
}

function runners(args: BenchArgs, imagesFile: string, labelsFile: string): Record<string, Runner> {
  const data = [
    ...['--images', imagesFile, '--labels', labelsFile, '--epochs', String(args.epochs), '--model', args.model],
    ...['--batch-size', String(args.batchSize), '--lr', String(args.lr)],
  ];
  const worker = path.join(REPO_ROOT, 'bench/tfjs-train-worker.ts');
  // `--import tsx` runs the TypeScript worker without a build, exactly as `npx tsx` runs this script.
  const tfjs = (backend: string, count: number): Runner => ({
    backend: `tfjs-${backend}`,
    count,
    command: process.execPath,
    args: ['--import', 'tsx', worker, '--backend', backend, '--count', String(count), ...data],
  });
  const p = BENCH_PARAMS;
  const keras: Runner = {
    backend: 'keras',
    count: args.images,
    command: args.python,
    args: [
      ...[path.join(REPO_ROOT, 'bench/keras_throughput.py'), '--count', String(args.images), ...data],
      ...['--filters', p.filters.join(',')],
      ...['--dense-units', String(p.denseUnits), '--dropout', String(p.dropout)],
    ],
  };
  return { 'tfjs-tensorflow': tfjs('tensorflow', args.images), keras, 'tfjs-cpu': tfjs('cpu', args.jsImages) };
}

/** Native tfjs and Keras `rounds` times, alternating which goes first so order effects cancel; then pure JS once. */
function schedule(args: BenchArgs, all: Record<string, Runner>): { round: number; runner: Runner }[] {
  const wanted = (name: string): Runner[] => {
    const runner = all[name];
    return runner && args.backends.includes(name) ? [runner] : [];
  };
  const rounds = Array.from({ length: args.rounds }, (_, k) => {
    const order = k % 2 === 0 ? ['tfjs-tensorflow', 'keras'] : ['keras', 'tfjs-tensorflow'];
    return order.flatMap(wanted).map((runner) => ({ round: k + 1, runner }));
  });
  return [...rounds.flat(), ...wanted('tfjs-cpu').map((runner) => ({ round: 1, runner }))];
}

/** Runs one runner to completion; whatever goes wrong becomes a `failed` result instead of ending the benchmark. */
async function run(runner: Runner, outFile: string): Promise<RunnerResult> {
  if (!existsSync(runner.command)) {
    return { status: 'skipped', backend: runner.backend, reason: `${runner.command} not found (see BENCHMARKS.md)` };
  }
  // Level 2 hides TF's INFO/WARNING start-up lines (CPU feature guard, oneDNN notice) but keeps errors.
  const env = { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' };
  const child = spawn(runner.command, [...runner.args, '--out', outFile], { cwd: REPO_ROOT, env, stdio: 'pipe' });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (existsSync(outFile)) return JSON.parse(await readFile(outFile, 'utf8')) as RunnerResult;
  const tail = output.trim().split('\n').slice(-5).join(' | ');
  return { status: 'failed', backend: runner.backend, reason: `exit code ${code}: ${tail}` };
}

function machineInfo() {
  return {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}

async function main(): Promise<void> {
  const args = parseBenchArgs();
  const loadBefore = os.loadavg();
  // Two cores leave no slack: anything else running skews every row, so say so rather than publish quiet numbers.
  if ((loadBefore[0] ?? 0) > 0.5) console.warn(`[bench] warning: 1-min load average is ${loadBefore[0]?.toFixed(2)}`);
  const count = Math.max(args.images, args.jsImages);
  console.log(`[bench] decoding ${count} ${IMAGE_SIZE}x${IMAGE_SIZE} images from ${args.dataDir}`);
  const set = await loadFaceMask(args.dataDir, count, IMAGE_SIZE);
  const work = await mkdtemp(path.join(os.tmpdir(), 'train-throughput-'));
  try {
    const imagesFile = path.join(work, 'images.npy');
    const labelsFile = path.join(work, 'labels.npy');
    await writeNpyU8(imagesFile, { data: set.images, shape: [count, IMAGE_SIZE, IMAGE_SIZE, 3] });
    await writeNpyU8(labelsFile, { data: set.labels, shape: [count] });

    const results: RoundResult[] = [];
    for (const { round, runner } of schedule(args, runners(args, imagesFile, labelsFile))) {
      console.log(`[bench] round ${round} ${runner.backend}: ${runner.count} images x ${args.epochs} epochs ...`);
      const result = await run(runner, path.join(work, `${runner.backend}-${round}.json`));
      results.push({ round, ...result });
    }
    await report(args, results, loadBefore);
    if (results.some((r) => r.status === 'failed')) process.exitCode = 1;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function report(args: BenchArgs, results: RoundResult[], loadBefore: number[]): Promise<void> {
  const cores = os.availableParallelism();
  const summaries = BACKEND_NAMES.flatMap((name) => summarize(results, name, cores) ?? []);
  const speed = (name: string) => summaries.find((s) => s.backend === name)?.imagesPerSecond.median;
  const over = (top: string, bottom: string) => {
    const [a, b] = [speed(top), speed(bottom)];
    return a !== undefined && b !== undefined ? a / b : null;
  };
  const pairs = pairedRatios(results, 'tfjs-tensorflow', 'keras', cores);
  const nativeOverKeras = pairs.length > 0 ? median(pairs) : null;
  const summary = {
    generatedAt: new Date().toISOString(),
    command: `npx tsx bench/train-throughput.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine: machineInfo(),
    loadAverage: { atStart: loadBefore, atEnd: os.loadavg() },
    setup: {
      dataset: path.relative(REPO_ROOT, args.dataDir),
      imageSize: IMAGE_SIZE,
      classes: 'with_mask=0, without_mask=1, alternating',
      model:
        args.model === 'resnet50v2'
          ? {
              model: 'resnet50v2',
              dropout: 0.5,
              optimizer: 'adam',
              lr: args.lr,
              batchSize: args.batchSize,
              epochs: args.epochs,
            }
          : { ...BENCH_PARAMS, epochs: args.epochs, batchSize: args.batchSize, lr: args.lr },
      rounds: args.rounds,
      timing:
        'first batch excluded: seconds run from the end of the first batch to the return of fit(); ' +
        'warmupSeconds is fit() start to the end of the first batch; timedImages = images*epochs - batchSize',
      cpu:
        'cpu.ownSeconds / seconds = cores the run kept busy; cpu.otherSeconds = busy time of every other ' +
        `process over the same interval (from /proc/stat); runs where others exceed ${DISTURBED_SHARE * 100}% ` +
        'of the machine are disturbed and left out of the summaries',
      threads: 'TF defaults for tfjs-node and Keras (intra_op/inter_op = one per core unless TF_NUM_*_THREADS is set)',
    },
    runs: results,
    summaries,
    ratios: {
      nativeOverKeras,
      nativeOverKerasPerRound: pairs,
      nativeOverJs: over('tfjs-tensorflow', 'tfjs-cpu'),
      kerasOverJs: over('keras', 'tfjs-cpu'),
    },
    target: {
      rule: `median over rounds of tfjs-tensorflow img/s / keras img/s >= ${TARGET_NATIVE_OVER_KERAS}`,
      met: nativeOverKeras === null ? null : nativeOverKeras >= TARGET_NATIVE_OVER_KERAS,
    },
  };
  await mkdir(path.dirname(args.out), { recursive: true });
  await writeFile(args.out, JSON.stringify(summary, null, 2) + '\n');
  printReport(results, summaries, pairs, nativeOverKeras, cores);
  console.log(`wrote ${path.relative(REPO_ROOT, args.out)}`);
}

function printReport(
  results: RoundResult[],
  summaries: BackendSummary[],
  pairs: number[],
  nativeOverKeras: number | null,
  cores: number,
): void {
  console.log(`\n${formatRuns(results, cores)}\n\n${formatSummaries(summaries)}\n`);
  for (const r of results) {
    if (r.status === 'ok' && (othersShare(r, cores) ?? 0) > DISTURBED_SHARE) {
      console.warn(`[bench] round ${r.round} ${r.backend} was disturbed by other processes; left out of the summary`);
    }
  }
  const shown = nativeOverKeras === null ? 'n/a' : `${nativeOverKeras.toFixed(2)}x`;
  const perRound = pairs.map((p) => p.toFixed(2)).join(', ');
  console.log(
    `native tfjs / Keras: ${shown} (median of undisturbed rounds: ${perRound}; target >= ${TARGET_NATIVE_OVER_KERAS.toFixed(1)}x)`,
  );
}

await main();
