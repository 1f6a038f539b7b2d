/**
 * What the diagnostic pictures cost: the lr-optimizer sweep (12 trials, committed 400-image sample), run from an
 * empty workspace with this checkout's CLI (A: CAM grid, feature maps, misclassified gallery, per-epoch tables,
 * report/index.html) and with the CLI of the commit before them (B: loss/accuracy/confusion PNGs only). Rounds
 * alternate the order (AB, BA, ...); the result is the per-round ratio of wall times, and of the summed visualize
 * stage times (from the node records), with the load average around each run.
 *
 *   npm run build && npx tsx bench/report-pictures.ts [--base <commit>] [--rounds 3]
 *
 * The base defaults to 0ab984a, the last commit before the pictures; it is exported with `git archive` into a temp
 * folder and built there against this checkout's node_modules. `--base off` compares with this checkout instead,
 * run with the pictures turned off (`visualize.camImages/featureChannels/mistakes = 0`): the same code, sweep and
 * stage pool on both sides, so the difference is the pictures alone (the HTML report is written on both sides).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { tempDir } from '../test/helpers/temp-project.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: { base: { type: 'string', default: '0ab984a' }, rounds: { type: 'string', default: '3' } },
});
const rounds = Number(values.rounds);

/** The base commit's tree, built, in a temp folder; returns its root. */
function buildBase(commit: string): string {
  const dir = tempDir('pictures-base-');
  execFileSync('bash', ['-c', `git -C ${JSON.stringify(ROOT)} archive ${commit} | tar -x -C ${JSON.stringify(dir)}`]);
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  execFileSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], { cwd: dir });
  return dir;
}

interface Run {
  variant: 'A' | 'B';
  seconds: number;
  visualizeSeconds: number;
  load: [number, number];
}

/** Seconds the visualize nodes of a workspace took, summed (from each node's record). */
function visualizeSeconds(ws: string): number {
  const nodes = path.join(ws, 'nodes');
  return readdirSync(nodes).reduce((sum, key) => {
    const record = JSON.parse(readFileSync(path.join(nodes, key, 'result.json'), 'utf8')) as {
      kind: string;
      durationMs: number;
    };
    return sum + (record.kind === 'visualize' ? record.durationMs / 1000 : 0);
  }, 0);
}

const PICTURES_OFF = ['visualize.camImages=0', 'visualize.featureChannels=0', 'visualize.mistakes=0'].flatMap(
  (flag) => ['--set', flag],
);

function runSweep(variant: 'A' | 'B', root: string, extra: string[] = []): Run {
  const ws = tempDir(`pictures-${variant}-`);
  const load0 = os.loadavg()[0] ?? NaN;
  const t0 = performance.now();
  const result = spawnSync(
    process.execPath,
    [
      path.join(root, 'dist', 'cli.js'),
      'run',
      path.join(root, 'experiments', 'sweeps', 'lr-optimizer.yaml'),
      '--workspace',
      ws,
      ...extra,
    ],
    { env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' }, encoding: 'utf8' },
  );
  const seconds = (performance.now() - t0) / 1000;
  if (result.status !== 0) throw new Error(`${variant} run failed (${result.status}): ${result.stderr.slice(-2000)}`);
  const run: Run = { variant, seconds, visualizeSeconds: visualizeSeconds(ws), load: [load0, os.loadavg()[0] ?? NaN] };
  process.stderr.write(
    `${variant}: ${seconds.toFixed(1)} s wall, visualize ${run.visualizeSeconds.toFixed(1)} s, load ${run.load.map((l) => l.toFixed(1)).join(' → ')}\n`,
  );
  return run;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const picturesOff = values.base === 'off';
const base = picturesOff ? ROOT : buildBase(values.base);
const runs: Run[] = [];
const ratios: { wall: number; visualize: number }[] = [];
for (let round = 0; round < rounds; round++) {
  const order: ('A' | 'B')[] = round % 2 === 0 ? ['A', 'B'] : ['B', 'A'];
  const pair = Object.fromEntries(
    order.map((variant) => [
      variant,
      runSweep(variant, variant === 'A' ? ROOT : base, variant === 'B' && picturesOff ? PICTURES_OFF : []),
    ]),
  ) as Record<'A' | 'B', Run>;
  runs.push(pair.A, pair.B);
  ratios.push({ wall: pair.A.seconds / pair.B.seconds, visualize: pair.A.visualizeSeconds / pair.B.visualizeSeconds });
}
const result = {
  date: new Date().toISOString(),
  base: values.base,
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
  sweep: 'experiments/sweeps/lr-optimizer.yaml',
  runs,
  ratios,
  medianWallRatio: median(ratios.map((r) => r.wall)),
  medianExtraSeconds:
    median(runs.filter((r) => r.variant === 'A').map((r) => r.seconds)) -
    median(runs.filter((r) => r.variant === 'B').map((r) => r.seconds)),
  medianVisualizeExtraSeconds:
    median(runs.filter((r) => r.variant === 'A').map((r) => r.visualizeSeconds)) -
    median(runs.filter((r) => r.variant === 'B').map((r) => r.visualizeSeconds)),
};
mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(
  path.join(ROOT, 'bench', 'results', picturesOff ? 'report-pictures-off.json' : 'report-pictures.json'),
  `${JSON.stringify(result, null, 2)}\n`,
);
process.stdout.write(`${JSON.stringify({ ratios, medianWallRatio: result.medianWallRatio }, null, 2)}\n`);
