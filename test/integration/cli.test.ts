import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isReportedMetric, STAGE_METRICS } from '../../src/spec/objective-rules.js';
import type { TrialRow } from '../../src/types.js';
import { runCli } from '../helpers/run-cli.js';
import { stageFixtures } from '../helpers/stage-fixtures.js';
import { copySample, pipelineYaml, tempDir, writeFiles } from '../helpers/temp-project.js';

/** A project with 20 real images per class, a corrupt file, and a 2-trial sweep. */
function makeProject(sweepExtra = '', trainExtra = ''): { dir: string; sweep: string; ws: string } {
  const dir = tempDir();
  copySample(path.join(dir, 'data'), 20);
  writeFileSync(path.join(dir, 'data', 'with_mask', 'broken.jpg'), 'not really a jpeg');
  writeFiles(dir, {
    'pipeline.yaml': pipelineYaml('data', trainExtra),
    'sweep.yaml': `pipeline: pipeline.yaml\ngrid:\n  train.optimizer: [adam, rmsprop]\n${sweepExtra}`,
  });
  return { dir, sweep: path.join(dir, 'sweep.yaml'), ws: path.join(dir, 'ws') };
}

const started = (stderr: string) => [...stderr.matchAll(/▶ (\S+) started/g)].map((m) => m[1]);

describe('pipeline run / rerun / plan / status / predict on real images', () => {
  const project = makeProject();
  const flags = ['--workspace', project.ws, '--parallel', '2'];
  let first: Awaited<ReturnType<typeof runCli>>;
  const predict = (target: string, ...extra: string[]) =>
    runCli(['predict', target, '--sweep', project.sweep, '--workspace', project.ws, ...extra]);

  beforeAll(async () => {
    first = await runCli(['run', project.sweep, ...flags, '--json']);
  });

  it('runs every node once, shared upstream included, and prints results best first', () => {
    expect(first.code, first.stderr).toBe(0);
    expect(started(first.stderr).sort()).toEqual(
      [
        'ingest',
        'split',
        't01/evaluate',
        't01/train',
        't01/visualize',
        't02/evaluate',
        't02/train',
        't02/visualize',
      ].sort(),
    );
    const { trials } = JSON.parse(first.stdout) as { trials: TrialRow[] };
    expect(trials.map((t) => t.state)).toEqual(['done', 'done']);
    expect(trials[0]?.best).toBe(true);
    expect(trials[0]?.objective).toBeGreaterThanOrEqual(trials[1]?.objective ?? 1);
    expect(trials[0]?.metrics).toHaveProperty('macro_f1');
    // The plan-time objective check knows every metric the stages really report.
    const known = Object.values(STAGE_METRICS).flat();
    for (const metric of Object.keys(trials[0]?.metrics ?? {}))
      expect(isReportedMetric(metric, known), metric).toBe(true);
  });

  it('skips the corrupt file and lists it in the ingest report', () => {
    const plan = JSON.parse(
      execFileSync(process.execPath, ['dist/cli.js', 'plan', project.sweep, '--json', ...flags.slice(0, 2)]).toString(),
    ) as {
      nodes: { id: string; cacheKey: string; cached: boolean }[];
    };
    expect(plan.nodes.every((n) => n.cached)).toBe(true);
    const ingest = plan.nodes.find((n) => n.id === 'ingest');
    const report = JSON.parse(
      readFileSync(path.join(project.ws, 'nodes', ingest?.cacheKey ?? '', 'ingest-report.json'), 'utf8'),
    ) as {
      images: number;
      skipped: { file: string; reason: string }[];
    };
    expect(report.images).toBe(40);
    expect(report.skipped).toEqual([
      { file: path.join('with_mask', 'broken.jpg'), reason: expect.any(String) as string },
    ]);
    // Counted on the console without --verbose, with the decoder's reason for the first one.
    expect(first.stderr).toContain(
      `warning: ingest: skipped 1 of 41 files that are not readable images (first: ${path.join('with_mask', 'broken.jpg')}: ${report.skipped[0]?.reason}); all are listed in ingest-report.json`,
    );
    // ... and named in the sweep report.
    expect(readFileSync(path.join(project.ws, 'report', 'index.html'), 'utf8')).toContain(
      `<h2>Files skipped by ingest (1)</h2>\n<ul id="skipped-files"><li><code>${path.join('with_mask', 'broken.jpg')}</code>: `,
    );
  });

  it('writes the evaluation report, curves and confusion matrix', () => {
    const nodes = readdirSync(path.join(project.ws, 'nodes')).map((key) => path.join(project.ws, 'nodes', key));
    const files = nodes.flatMap((dir) => readdirSync(dir));
    for (const name of [
      'report.txt',
      'report.json',
      'predictions.csv',
      'loss.png',
      'accuracy.png',
      'confusion.png',
      'history.json',
    ]) {
      expect(files).toContain(name);
    }
    const report = nodes.map((dir) => path.join(dir, 'report.txt')).find((file) => existsSync(file)) ?? '';
    expect(readFileSync(report, 'utf8')).toMatch(/precision {4}recall {2}f1-score {3}support\n\n +with_mask/);
    expect(readdirSync(path.join(project.ws, 'tmp'))).toEqual([]);
  });

  it('a second run reuses everything', async () => {
    const again = await runCli(['run', project.sweep, ...flags, '--json']);
    expect(again.code).toBe(0);
    expect(started(again.stderr)).toEqual([]);
    expect(again.stderr).toMatch(/0 ran, 8 cached/);
    expect(JSON.parse(again.stdout)).toEqual(JSON.parse(first.stdout));
  });

  it('rerun --stage evaluate --downstream recomputes only evaluate and visualize', async () => {
    const rerun = await runCli(['rerun', project.sweep, '--stage', 'evaluate', '--downstream', ...flags]);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(started(rerun.stderr).sort()).toEqual(['t01/evaluate', 't01/visualize', 't02/evaluate', 't02/visualize']);
    const one = await runCli(['rerun', project.sweep, '--stage', 'train', '--trial', 't02', ...flags]);
    expect(started(one.stderr)).toEqual(['t02/train']);
  });

  it('status shows the same table without running anything', async () => {
    const status = await runCli(['status', project.sweep, '--workspace', project.ws]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^ {3}trial {2}optimizer {2}state {2}val_accuracy\n\* +t0\d +\w+ +done +\d\.\d{4}\n/);
  });

  it('plan prints the DAG and dag prints mermaid', async () => {
    const plan = await runCli(['plan', project.sweep, '--workspace', project.ws]);
    expect(plan.stdout).toMatch(/^2 trials, 8 nodes: 8 cached, 0 to run\n/);
    const dag = await runCli(['dag', project.sweep]);
    expect(dag.stdout).toMatch(/^flowchart LR\n/);
    expect(dag.stdout).toMatch(/n0\["ingest"\]/);
    expect(dag.stdout.match(/-->/g)).toHaveLength(1 + 2 * 5); // ingest→split, then 5 edges per trial
  });

  it('predict classifies a folder-per-class tree and single images', async () => {
    const out = path.join(project.dir, 'predictions.csv');
    const tree = await predict(path.join(project.dir, 'data'), '--out', out);
    expect(tree.code, tree.stderr).toBe(0);
    expect(tree.stdout).toMatch(/accuracy +\d\.\d\d +40\n/);
    expect(tree.stderr).toMatch(/skipped .*broken\.jpg/);
    const rows = readFileSync(out, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('file,truth,predicted,confidence');
    expect(rows).toHaveLength(41);
    const image =
      readdirSync(path.join(project.dir, 'data', 'with_mask')).find((f) => f.endsWith('.jpg') && f !== 'broken.jpg') ??
      '';
    const single = await predict(path.join(project.dir, 'data', 'with_mask', image), '--trial', 't01', '--json');
    const parsed = JSON.parse(single.stdout) as { predictions: { label: string; confidence: number }[] };
    expect(parsed.predictions).toHaveLength(1);
    expect(['with_mask', 'without_mask']).toContain(parsed.predictions[0]?.label);
    expect(parsed.predictions[0]?.confidence).toBeGreaterThanOrEqual(0.5);
  });

  // Only meaningful where the GPU package is absent (it is an optional dependency that needs CUDA).
  it.skipIf(resolves('@tensorflow/tfjs-node-gpu'))(
    'predict --backend tensorflow-gpu without its package: one line naming the package, exit 2',
    async () => {
      const result = await predict(path.join(project.dir, 'data'), '--backend', 'tensorflow-gpu');
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(
        /^pipeline: backend tensorflow-gpu is not available \(.*\); install @tensorflow\/tfjs-node-gpu, or use --backend auto\n$/,
      );
      expect(result.stdout).toBe('');
    },
  );
});

/** Whether a package can be loaded from here. */
function resolves(name: string): boolean {
  try {
    createRequire(import.meta.url).resolve(name);
    return true;
  } catch {
    return false;
  }
}

describe('bad input gives one clear line and a non-zero exit', () => {
  it('a missing dataset folder', async () => {
    const { dir, sweep, ws } = makeProject();
    const result = await runCli(['run', sweep, '--workspace', ws, '--set', 'ingest.dataDir=nope'], { cwd: dir });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^pipeline: stages\.ingest\.params\.dataDir: data folder .*nope not found\n$/);
    expect(existsSync(ws)).toBe(false);
  });

  it('a class folder with no images fails ingest with the class named, and stores nothing', async () => {
    const { dir, sweep, ws } = makeProject();
    mkdirSync(path.join(dir, 'data', 'improper_mask'));
    writeFileSync(path.join(dir, 'data', 'improper_mask', 'notes.txt'), 'no images here');
    const result = await runCli(['run', sweep, '--workspace', ws]);
    expect(result.code).toBe(3); // bad data, as the README's table says (it was 1, "a trial failed")
    expect(result.stderr).toMatch(/✖ ingest failed.*: class 'improper_mask' has no readable images/);
    expect(existsSync(path.join(ws, 'nodes'))).toBe(false);
    expect(readdirSync(path.join(ws, 'tmp'))).toEqual([]);
  });

  it.each([
    [
      ['run', 'no-such-sweep.yaml'],
      /^pipeline: sweep file no-such-sweep\.yaml: not found \(looked in \. and experiments\/\)\n$/,
      2,
    ],
    [
      ['run', 'sweeps/smoke.yaml', '--set', 'train.momentum=1'],
      /^pipeline: --set: train\.momentum: train stage 'train' has no parameter 'momentum'/,
      2,
    ],
    [['run', 'sweeps/smoke.yaml', '--parallel', '0'], /option '--parallel <n>' argument '0' is invalid/, 2],
    [
      ['rerun', 'sweeps/smoke.yaml', '--stage', 'fit'],
      /^pipeline: --stage fit: no such stage \(stages: ingest, split, train, evaluate, visualize\)\n$/,
      2,
    ],
    [
      ['run', 'sweeps/smoke.yaml', '--backend', 'cuda'],
      /argument 'cuda' is invalid\. Allowed choices are auto, tensorflow-gpu, tensorflow, cpu/,
      2,
    ],
  ])('%j', async (args, expected, code) => {
    const result = await runCli(args);
    expect(result.stderr).toMatch(expected);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.code).toBe(code);
  });
});

describe('a crashed stage process fails its trial, not the sweep', () => {
  it("one trial's train process killed: the other trial finishes, the killed one is reported", async () => {
    const { sweep, ws } = makeProject();
    const result = await runCli(['run', sweep, '--workspace', ws, '--parallel', '2', '--json'], {
      env: stageFixtures({ 't01/train': 'crash' }),
    });
    expect(result.code).toBe(1);
    const { trials } = JSON.parse(result.stdout) as { trials: TrialRow[] };
    expect(trials.find((t) => t.id === 't02')?.state).toBe('done');
    expect(trials.find((t) => t.id === 't01')).toMatchObject({
      state: 'failed',
      error: 'train: t01/train (optimizer=adam): stage process died (signal SIGKILL)',
    });
    expect(result.stderr).toMatch(/- t01\/evaluate skipped: an upstream stage failed/);
    expect(readdirSync(path.join(ws, 'tmp'))).toEqual([]);
  });
});
