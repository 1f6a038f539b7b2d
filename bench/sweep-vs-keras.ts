/**
 * End to end: `pipeline run` of the CNN report's grid (lr × optimizer × batch size = 12 trials) against the Keras script
 * a user would write instead (bench/keras_sweep.py), on the same images, image size, model and epochs. Alternating A/B
 * rounds in one run; wall time and CPU time (user + sys of the whole process tree, bench/tree_time.py) of each side,
 * the pipeline/Keras ratio per round and the medians → bench/results/sweep-vs-keras-<scale>.json.
 *
 *   npx tsx bench/sweep-vs-keras.ts [--scale sample|full] [--rounds 3] [--epochs 5] [--image-size 64]
 *                                   [--data-dir D] [--python P] [--parallel N] [--env K=V ...] [--out F]
 *
 * `sample` is the committed 400-image sample (data/face-mask); `full` is the 3,384-image set in
 * ../shared/datasets/face-mask. Needs `npm run build` (the pipeline runs from dist/, as a user's install does) and
 * `.venv-keras` with TF 2.12.1 (see BENCHMARKS.md). Every pipeline round starts from an empty workspace.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cpuSnapshot } from './lib/cpu-usage.js';
import { median } from './lib/report.js';

const REPO_ROOT = path.resolve(import.meta.dirname, '..');
const SCALES: Record<string, string> = {
  sample: path.join(REPO_ROOT, 'data/face-mask'),
  full: path.resolve(REPO_ROOT, '../shared/datasets/face-mask'),
};
/** The report's CNN: filters and dense units as in bench/keras_sweep.py's defaults. */
const FILTERS = [32, 64, 128];
const DENSE_UNITS = 128;

interface Side {
  wallSeconds: number;
  cpuSeconds: number;
  userSeconds: number;
  systemSeconds: number;
  /** CPU time that other processes on the machine used meanwhile (from /proc/stat), in seconds. */
  otherCpuSeconds: number | null;
  exitCode: number | null;
  best?: { val_accuracy: number; trial: string };
  tail?: string;
}

interface Round {
  round: number;
  order: string[];
  keras: Side;
  pipeline: Side;
  wallRatio: number;
  cpuRatio: number;
}

function parseBenchArgs() {
  const { values } = parseArgs({
    options: {
      scale: { type: 'string', default: 'sample' },
      rounds: { type: 'string', default: '3' },
      epochs: { type: 'string', default: '5' },
      'image-size': { type: 'string', default: '64' },
      'data-dir': { type: 'string' },
      python: { type: 'string', default: path.join(REPO_ROOT, '.venv-keras/bin/python') },
      parallel: { type: 'string' },
      // Extra environment for the pipeline side only, e.g. --env PIPELINE_STAGE_POOL=0 to measure without the pool.
      env: { type: 'string', multiple: true, default: [] },
      out: { type: 'string' },
    },
  });
  const scale = values.scale;
  const dataDir = path.resolve(values['data-dir'] ?? SCALES[scale] ?? '');
  if (!(scale in SCALES)) throw new Error(`--scale must be one of ${Object.keys(SCALES).join(', ')}`);
  if (!existsSync(dataDir)) throw new Error(`--data-dir ${dataDir} does not exist`);
  const extraEnv: Record<string, string> = {};
  for (const pair of values.env) {
    const at = pair.indexOf('=');
    if (at < 1) throw new Error(`--env ${pair}: expected KEY=VALUE`);
    extraEnv[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return {
    scale,
    dataDir,
    rounds: Number(values.rounds),
    epochs: Number(values.epochs),
    imageSize: Number(values['image-size']),
    python: values.python,
    parallel: values.parallel,
    extraEnv,
    out: path.resolve(values.out ?? path.join(REPO_ROOT, `bench/results/sweep-vs-keras-${scale}.json`)),
  };
}
type BenchArgs = ReturnType<typeof parseBenchArgs>;

/** Runs a command under bench/tree_time.py, which reports the user and sys time of its whole process tree. */
async function timed(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  work: string,
): Promise<{ side: Side; stdout: string }> {
  const timeFile = path.join(work, 'time.txt');
  const before = cpuSnapshot();
  const started = performance.now();
  const child = spawn('python3', [path.join(REPO_ROOT, 'bench/tree_time.py'), timeFile, command, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const wallSeconds = (performance.now() - started) / 1000;
  const after = cpuSnapshot();
  const [, user = NaN, system = NaN] = (await readFile(timeFile, 'utf8'))
    .trim()
    .split('\n')
    .at(-1)!
    .split(' ')
    .map(Number);
  const busy = before.busy !== undefined && after.busy !== undefined ? after.busy - before.busy : undefined;
  const side: Side = {
    wallSeconds,
    cpuSeconds: user + system,
    userSeconds: user,
    systemSeconds: system,
    otherCpuSeconds: busy === undefined ? null : Math.max(0, busy - (after.own - before.own) - user - system),
    exitCode,
    ...(exitCode === 0 ? {} : { tail: stderr.trim().split('\n').slice(-5).join(' | ') }),
  };
  return { side, stdout };
}

async function runKeras(args: BenchArgs, work: string): Promise<Side> {
  const out = path.join(work, 'keras.json');
  const { side } = await timed(
    args.python,
    [
      ...[path.join(REPO_ROOT, 'bench/keras_sweep.py'), '--data-dir', args.dataDir, '--out', out],
      ...['--image-size', String(args.imageSize), '--epochs', String(args.epochs)],
      ...['--filters', FILTERS.join(','), '--dense-units', String(DENSE_UNITS)],
    ],
    {},
    work,
  );
  if (existsSync(out)) {
    const summary = JSON.parse(await readFile(out, 'utf8')) as {
      trials: { lr: number; optimizer: string; batchSize: number; best: number; val_accuracy: number }[];
    };
    const best = summary.trials.reduce((a, b) => (b.val_accuracy > a.val_accuracy ? b : a));
    side.best = { val_accuracy: best.val_accuracy, trial: `lr=${best.lr} ${best.optimizer} batch=${best.batchSize}` };
  }
  return side;
}

async function runPipeline(args: BenchArgs, work: string): Promise<Side> {
  const workspace = path.join(work, 'workspace');
  await rm(workspace, { recursive: true, force: true });
  const sets = [
    `ingest.dataDir=${args.dataDir}`,
    `ingest.imageSize=${args.imageSize}`,
    `train.filters=[${FILTERS.join(',')}]`,
    `train.denseUnits=${DENSE_UNITS}`,
    `train.epochs=${args.epochs}`,
  ].flatMap((set) => ['--set', set]);
  const { side, stdout } = await timed(
    process.execPath,
    [
      ...[path.join(REPO_ROOT, 'dist/cli.js'), 'run', 'experiments/sweeps/lr-optimizer.yaml'],
      ...['--workspace', workspace, '--backend', 'tensorflow', '--json', ...sets],
      ...(args.parallel ? ['--parallel', args.parallel] : []),
    ],
    args.extraEnv,
    work,
  );
  try {
    const rows = (
      JSON.parse(stdout) as { trials: { params: Record<string, unknown>; metrics: Record<string, number> }[] }
    ).trials;
    const best = rows.reduce((a, b) => ((b.metrics.val_accuracy ?? 0) > (a.metrics.val_accuracy ?? 0) ? b : a));
    const p = best.params;
    side.best = {
      val_accuracy: best.metrics.val_accuracy ?? NaN,
      trial: `lr=${String(p['train.lr'])} ${String(p['train.optimizer'])} batch=${String(p['train.batchSize'])}`,
    };
  } catch {
    // Reported through exitCode and tail.
  }
  await rm(workspace, { recursive: true, force: true });
  return side;
}

async function main(): Promise<void> {
  const args = parseBenchArgs();
  if (!existsSync(path.join(REPO_ROOT, 'dist/cli.js'))) throw new Error('dist/cli.js is missing: run npm run build');
  const work = await mkdtemp(path.join(os.tmpdir(), 'sweep-vs-keras-'));
  const loadAtStart = os.loadavg();
  const rounds: Round[] = [];
  try {
    for (let round = 1; round <= args.rounds; round++) {
      // Alternate which side goes first, so a drift in the machine's speed does not favour one of them.
      const order = round % 2 === 1 ? ['pipeline', 'keras'] : ['keras', 'pipeline'];
      const sides: Record<string, Side> = {};
      for (const name of order) {
        console.log(`[bench] round ${round}: ${name} ...`);
        sides[name] = name === 'keras' ? await runKeras(args, work) : await runPipeline(args, work);
        const side = sides[name];
        console.log(
          `[bench]   ${name}: ${side.wallSeconds.toFixed(1)} s wall, ${side.cpuSeconds.toFixed(1)} s CPU` +
            `, others ${side.otherCpuSeconds?.toFixed(1) ?? '?'} s, best ${side.best?.val_accuracy.toFixed(3) ?? '?'} (${side.best?.trial ?? side.tail ?? ''})`,
        );
      }
      const keras = sides.keras!;
      const pipeline = sides.pipeline!;
      rounds.push({
        round,
        order,
        keras,
        pipeline,
        wallRatio: pipeline.wallSeconds / keras.wallSeconds,
        cpuRatio: pipeline.cpuSeconds / keras.cpuSeconds,
      });
      console.log(
        `[bench]   pipeline/keras: wall ${rounds.at(-1)!.wallRatio.toFixed(3)}, CPU ${rounds.at(-1)!.cpuRatio.toFixed(3)}`,
      );
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const ok = rounds.filter((r) => r.keras.exitCode === 0 && r.pipeline.exitCode === 0);
  const summary = {
    generatedAt: new Date().toISOString(),
    command: `npx tsx bench/sweep-vs-keras.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { cpuModel: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism(), node: process.version },
    loadAverage: { atStart: loadAtStart, atEnd: os.loadavg() },
    setup: {
      dataDir: path.relative(REPO_ROOT, args.dataDir),
      imageSize: args.imageSize,
      epochs: args.epochs,
      filters: FILTERS,
      denseUnits: DENSE_UNITS,
      trials: 12,
      pipelineEnv: args.extraEnv,
      parallel: args.parallel ?? 'default (cores)',
    },
    rounds,
    median: ok.length
      ? { wallRatio: median(ok.map((r) => r.wallRatio)), cpuRatio: median(ok.map((r) => r.cpuRatio)) }
      : null,
    targets: { wallRatio: 0.67, cpuRatio: 1.0 },
  };
  await mkdir(path.dirname(args.out), { recursive: true });
  await writeFile(args.out, `${JSON.stringify(summary, null, 1)}\n`);
  console.log(
    `[bench] median pipeline/keras: wall ${summary.median?.wallRatio.toFixed(3)}, CPU ${summary.median?.cpuRatio.toFixed(3)} → ${path.relative(REPO_ROOT, args.out)}`,
  );
  if (ok.length < rounds.length) process.exitCode = 1;
}

await main();
