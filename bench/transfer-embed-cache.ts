/**
 * What the shared `embed` node buys on the 12-trial transfer sweep (experiments/sweeps/transfer-lr-optimizer.yaml:
 * MobileNetV2 with nsfwjs' weights, frozen, 128 px, the committed 400-image sample, lr × optimizer × batch size):
 *
 * - **shared**: the sweep from an empty workspace — ingest, split and the backbone's features once, 12 heads;
 * - **cached**: the same workspace, another 12-trial grid (epochs 5) — the features are reused, only heads train;
 * - **per trial**: each of the 12 trials as its own run from an empty workspace, as a script that loops over the grid
 *   would do it — ingest, split and the features 12 times.
 *
 * Wall time of each, in that order → bench/results/transfer-embed-cache.json.
 *
 *   npm run build && npx tsx bench/transfer-embed-cache.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tempDir } from '../test/helpers/temp-project.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const SWEEP = path.join(ROOT, 'experiments', 'sweeps', 'transfer-lr-optimizer.yaml');
const GRID = { lr: [0.01, 0.001, 0.0001], optimizer: ['rmsprop', 'adam'], batchSize: [64, 32] };

function timed(args: string[]): number {
  const start = performance.now();
  const run = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } });
  if (run.status !== 0) throw new Error(`pipeline ${args.join(' ')} failed: ${run.stderr.toString().slice(-1500)}`);
  return (performance.now() - start) / 1000;
}

const ws = tempDir('embed-shared-');
const shared = timed(['run', SWEEP, '--workspace', ws]);
console.log(`shared: ${shared.toFixed(1)} s`);
const cached = timed(['run', SWEEP, '--workspace', ws, '--set', 'train.epochs=5']);
console.log(`cached: ${cached.toFixed(1)} s`);
let perTrial = 0;
const dir = tempDir('embed-per-trial-');
for (const lr of GRID.lr) {
  for (const optimizer of GRID.optimizer) {
    for (const batchSize of GRID.batchSize) {
      const file = path.join(dir, `t-${lr}-${optimizer}-${batchSize}.yaml`);
      const grid = `grid:\n  train.lr: [${lr}]\n  train.optimizer: [${optimizer}]\n  train.batchSize: [${batchSize}]\n`;
      writeFileSync(file, `pipeline: ${path.join(ROOT, 'pipelines', 'face-mask-transfer.yaml')}\n${grid}`);
      perTrial += timed(['run', file, '--workspace', tempDir('embed-one-')]);
    }
  }
}
console.log(`per trial, 12 runs: ${perTrial.toFixed(1)} s`);
const result = {
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadAtEnd: os.loadavg()[0] },
  sweep: 'experiments/sweeps/transfer-lr-optimizer.yaml',
  seconds: { shared, cached, perTrial },
};
mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(path.join(ROOT, 'bench', 'results', 'transfer-embed-cache.json'), `${JSON.stringify(result, null, 2)}\n`);
