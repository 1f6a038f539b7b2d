/**
 * Planner at scale: `pipeline plan` of grids of 10^3, 10^4 and 10^5 trials over the face-mask pipeline (5 stages,
 * ingest and split shared), and the refusal of a 10^6-trial grid. Wall and CPU time of each CLI run (the whole process,
 * start-up and printing included) → bench/results/plan-scale.json.
 *
 *   npm run build && npx tsx bench/plan-scale.ts [--rounds 3]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { median } from './lib/report.js';

const REPO_ROOT = path.resolve(import.meta.dirname, '..');
const TEN = '[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]';
const KEYS = ['train.seed', 'train.epochs', 'train.batchSize', 'train.denseUnits', 'train.dropout', 'train.lr'];
const VALUES: Record<string, string> = {
  'train.dropout': '[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]',
  'train.lr': '[0.1, 0.01, 0.001, 0.0001, 0.00001, 0.2, 0.02, 0.002, 0.0002, 0.00002]',
};

/** A sweep file of 10^dims trials (dims grid keys of 10 values each) with maxTrials raised to allow it. */
function sweepYaml(dims: number): string {
  const grid = KEYS.slice(0, dims).map((key) => `  ${key}: ${VALUES[key] ?? TEN}`);
  return `pipeline: ${path.join(REPO_ROOT, 'pipelines/face-mask.yaml')}\nmaxTrials: 100000\ngrid:\n${grid.join('\n')}\n`;
}

async function timedPlan(file: string, workspace: string, work: string) {
  const timeFile = path.join(work, 'time.txt');
  const cli = [path.join(REPO_ROOT, 'dist/cli.js'), 'plan', file, '--workspace', workspace];
  const child = spawn('python3', [path.join(REPO_ROOT, 'bench/tree_time.py'), timeFile, process.execPath, ...cli], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const [wall = NaN, user = NaN, system = NaN] = (await readFile(timeFile, 'utf8')).trim().split(' ').map(Number);
  return { code, wallSeconds: wall, cpuSeconds: user + system, stderr: stderr.trim().split('\n').at(-1) ?? '' };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
  const rounds = Number(values.rounds);
  const work = await mkdtemp(path.join(os.tmpdir(), 'plan-scale-'));
  const loadAtStart = os.loadavg();
  const rows = [];
  try {
    for (const dims of [3, 4, 5, 6]) {
      const file = path.join(work, `grid-${dims}.yaml`);
      await writeFile(file, sweepYaml(dims));
      const runs = [];
      for (let round = 0; round < (dims === 6 ? 1 : rounds); round++) {
        runs.push(await timedPlan(file, path.join(work, 'workspace'), work));
      }
      const row = {
        trials: 10 ** dims,
        exitCodes: runs.map((run) => run.code),
        wallSeconds: median(runs.map((run) => run.wallSeconds)),
        cpuSeconds: median(runs.map((run) => run.cpuSeconds)),
        runs,
      };
      rows.push(row);
      console.log(
        `[bench] ${row.trials} trials: exit ${row.exitCodes.join(',')}, wall ${row.wallSeconds.toFixed(2)} s, CPU ${row.cpuSeconds.toFixed(2)} s${dims === 6 ? ` (${runs[0]?.stderr ?? ''})` : ''}`,
      );
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const out = path.join(REPO_ROOT, 'bench/results/plan-scale.json');
  const summary = {
    generatedAt: new Date().toISOString(),
    command: `npx tsx bench/plan-scale.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { cpuModel: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism(), node: process.version },
    loadAverage: { atStart: loadAtStart, atEnd: os.loadavg() },
    note: '10^6 is above maxTrials (raised to 100,000 in these files), so that row times the refusal',
    rows,
  };
  await writeFile(out, `${JSON.stringify(summary, null, 1)}\n`);
  console.log(`[bench] → ${path.relative(REPO_ROOT, out)}`);
}

await main();
