/**
 * ASHA on the CNN report's 12-trial grid (lr × optimizer × batch size, 64 px, the report's CNN): total train epochs
 * and wall time against the full grid, and whether it keeps the full grid's best trial.
 *
 *   npm run build && npx tsx bench/early-stop.ts [--per-class 60] [--epochs 9] [--seed 1] [--backend tensorflow]
 *
 * 1. Runs the full grid (no early stopping) through the CLI and reads every trial's per-epoch curve.
 * 2. ASHA judges trials in the sweep's order, so its outcome for an order is a pure function of those curves
 *    (training is seeded per trial, independent of order): replays it with the real decision module for the grid
 *    order and for random orders (`method: random` over all 12 points, seeds 0–9).
 * 3. Runs ASHA for real once (random order, `--seed`) in a fresh workspace, and checks it matches the replay.
 * Writes bench/results/early-stop.json.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { bracketOf, decideStop, milestones } from '../src/orchestrator/early-stop/decide-stop.js';
import { expandGrid } from '../src/plan/expand-grid.js';
import { loadSweep } from '../src/spec/load-sweep.js';
import type { EarlyStopSpec, TrialRow } from '../src/types.js';
import { tempDir, writeFiles } from '../test/helpers/temp-project.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    'per-class': { type: 'string', default: '60' },
    epochs: { type: 'string', default: '9' },
    seed: { type: 'string', default: '1' },
    backend: { type: 'string', default: 'tensorflow' },
    parallel: { type: 'string', default: '2' },
  },
});
const EPOCHS = Number(values.epochs);
const ASHA: EarlyStopSpec = {
  method: 'asha',
  metric: 'val_accuracy',
  goal: 'maximize',
  minEpochs: 1,
  reductionFactor: 3,
  brackets: 1,
};

const dir = tempDir('pipeline-bench-es-');
const header = `pipeline: ${path.join(ROOT, 'pipelines', 'face-mask.yaml')}
set:
  ingest.dataDir: /work/shared/datasets/face-mask
  ingest.imageSize: 64
  ingest.maxPerClass: ${values['per-class']}
  train.filters: [32, 64, 128]
  train.denseUnits: 128
  train.epochs: ${EPOCHS}
grid:
  train.lr: [0.01, 0.001, 0.0001]
  train.optimizer: [rmsprop, adam]
  train.batchSize: [64, 32]
objective:
  metric: val_accuracy
`;
const earlyStop = `early_stop:
  method: asha
  metric: val_accuracy
  min_epochs: ${ASHA.minEpochs}
  reduction_factor: ${ASHA.reductionFactor}
`;
writeFiles(dir, {
  'grid.yaml': header,
  'asha.yaml': `${header}method: random\nsamples: 12\nseed: ${values.seed}\n${earlyStop}`,
});

/** Runs the CLI; returns its JSON output and wall seconds. */
function cli(args: string[]): Promise<{ stdout: string; seconds: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('close', (code) =>
      code === 0 || code === 1
        ? resolve({ stdout, seconds: (performance.now() - started) / 1000 })
        : reject(new Error(`pipeline ${args.join(' ')}: exit ${code ?? '?'}`)),
    );
  });
}

/** Every trial's train history (val_accuracy per epoch), keyed by its grid point. */
async function curvesOf(sweep: string, ws: string): Promise<Map<string, number[]>> {
  const { stdout } = await cli(['plan', sweep, '--workspace', ws, '--json']);
  const plan = JSON.parse(stdout) as {
    trials: { id: string; params: Record<string, unknown> }[];
    nodes: { id: string; cacheKey: string }[];
  };
  const curves = new Map<string, number[]>();
  for (const trial of plan.trials) {
    const node = plan.nodes.find((n) => n.id === `${trial.id}/train`);
    const file = path.join(ws, 'nodes', node?.cacheKey ?? '-', 'history.json');
    if (!existsSync(file)) continue;
    const history = JSON.parse(readFileSync(file, 'utf8')) as {
      val_accuracy: number | null;
      val_loss: number | null;
    }[];
    curves.set(
      keyOf(trial.params),
      history.map((row) => row.val_accuracy ?? NaN),
    );
  }
  return curves;
}

const keyOf = (params: Record<string, unknown>) => JSON.stringify(params, Object.keys(params).sort());

/** The best trial by its last val_accuracy; ties go to the earlier grid point (the table's order is stable too). */
function bestOf(curves: Map<string, number[]>, keys: string[]): string {
  let best = keys[0] ?? '';
  for (const key of keys) if ((curves.get(key)?.at(-1) ?? -1) > (curves.get(best)?.at(-1) ?? -1)) best = key;
  return best;
}

/** ASHA replayed over `order` on the full curves: epochs each trial trains. */
function replay(curves: Map<string, number[]>, order: string[]): Map<string, number> {
  const trained: { values: number[]; ended: boolean }[] = [];
  const epochs = new Map<string, number>();
  order.forEach((key, index) => {
    const full = curves.get(key) ?? [];
    const bracket = bracketOf(ASHA, index);
    const earlier = trained.filter((_, j) => bracketOf(ASHA, j) === bracket);
    let ran = full.length;
    for (const epoch of milestones(ASHA, bracket, full.length)) {
      if (decideStop(ASHA, { values: full.slice(0, epoch), ended: false }, earlier, epoch)?.stop) {
        ran = epoch;
        break;
      }
    }
    trained.push({ values: full.slice(0, ran), ended: true });
    epochs.set(key, ran);
  });
  return epochs;
}

const gridWs = path.join(dir, 'ws-grid');
process.stderr.write(`full grid: 12 trials × ${EPOCHS} epochs in ${dir}\n`);
const common = ['--backend', values.backend, '--parallel', values.parallel, '--json'];
const full = await cli(['run', path.join(dir, 'grid.yaml'), '--workspace', gridWs, ...common]);
const curves = await curvesOf(path.join(dir, 'grid.yaml'), gridWs);
const gridSweep = await loadSweep(path.join(dir, 'grid.yaml'));
const gridOrder = expandGrid(gridSweep).map((trial) => keyOf(trial.params));
const fullBest = bestOf(curves, gridOrder);
const fullEpochs = [...curves.values()].reduce((sum, c) => sum + c.length, 0);

const replays = [];
for (const seed of [undefined, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) {
  const order =
    seed === undefined
      ? gridOrder
      : expandGrid({ ...gridSweep, method: 'random', samples: 12, seed }).map((t) => keyOf(t.params));
  const epochs = replay(curves, order);
  const total = [...epochs.values()].reduce((a, b) => a + b, 0);
  const survivors = order.filter((key) => epochs.get(key) === EPOCHS);
  replays.push({
    order: seed === undefined ? 'grid' : `random seed ${seed}`,
    totalEpochs: total,
    saved: 1 - total / fullEpochs,
    keepsBest: survivors.includes(fullBest) && bestOf(curves, survivors) === fullBest,
  });
}

process.stderr.write(`ASHA for real, random order seed ${values.seed}\n`);
const ashaWs = path.join(dir, 'ws-asha');
const asha = await cli(['run', path.join(dir, 'asha.yaml'), '--workspace', ashaWs, ...common]);
const ashaCurves = await curvesOf(path.join(dir, 'asha.yaml'), ashaWs);
const ashaRows = (JSON.parse(asha.stdout) as { trials: TrialRow[] }).trials;
const ashaSweep = await loadSweep(path.join(dir, 'asha.yaml'));
const ashaOrder = expandGrid(ashaSweep).map((trial) => keyOf(trial.params));
const predicted = replay(curves, ashaOrder);
const realEpochs = new Map([...ashaCurves].map(([key, c]) => [key, c.length]));
const fullRows = (JSON.parse(full.stdout) as { trials: TrialRow[] }).trials;

const result = {
  bench: 'early-stop',
  date: new Date().toISOString(),
  setting: {
    grid: 'lr [0.01, 0.001, 0.0001] × optimizer [rmsprop, adam] × batchSize [64, 32]',
    imageSize: 64,
    model: 'basic CNN, filters [32, 64, 128], dense 128 (the report)',
    imagesPerClass: Number(values['per-class']),
    epochs: EPOCHS,
    backend: values.backend,
    parallel: Number(values.parallel),
    asha: ASHA,
    rungs: milestones(ASHA, 0, EPOCHS),
  },
  fullGrid: {
    wallSeconds: full.seconds,
    totalEpochs: fullEpochs,
    best: fullBest,
    bestByTable: fullRows[0]?.label,
    curves: Object.fromEntries(curves),
  },
  replays,
  realAsha: {
    order: `random seed ${values.seed}`,
    wallSeconds: asha.seconds,
    totalEpochs: [...realEpochs.values()].reduce((a, b) => a + b, 0),
    matchesReplay: [...predicted].every(([key, n]) => realEpochs.get(key) === n),
    bestByTable: ashaRows[0]?.label,
    stopped: ashaRows.filter((row) => row.state === 'stopped').map((row) => `${row.label}: ${row.stopped ?? ''}`),
  },
};
await mkdir(path.join(ROOT, 'bench', 'results'), { recursive: true });
await writeFile(path.join(ROOT, 'bench', 'results', 'early-stop.json'), `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(
  `${JSON.stringify({ fullGrid: { ...result.fullGrid, curves: undefined }, replays, realAsha: result.realAsha }, null, 2)}\n`,
);
