import { readFileSync, openSync, writeSync, closeSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TrialRow } from '../../../src/types.js';
import { runCli } from '../../helpers/run-cli.js';
import { copySample, pipelineYaml, tempDir, writeFiles } from '../../helpers/temp-project.js';

/**
 * The audit's corruptions of a cached node — an emptied weights.bin, 4 KiB overwritten in it, a dataset cut in half,
 * a dataset changed in place — are found: `run` rebuilds the node with one warning line and gives the clean result,
 * `predict` refuses a damaged model in one line (exit 3), `verify` names every damaged node (exit 3).
 */
describe('cache integrity', () => {
  const dir = tempDir('integrity-');
  const ws = path.join(dir, 'ws');
  const sweep = path.join(dir, 'sweep.yaml');
  let keys: Map<string, string>;
  let clean: TrialRow[];
  const nodeFile = (id: string, file: string) => path.join(ws, 'nodes', keys.get(id) ?? '?', file);
  const run = (...extra: string[]) => runCli(['run', sweep, '--workspace', ws, '--json', ...extra]);
  const metrics = (stdout: string) => (JSON.parse(stdout) as { trials: TrialRow[] }).trials.map((t) => t.metrics);

  beforeAll(async () => {
    copySample(path.join(dir, 'data'), 12);
    writeFiles(dir, {
      'pipeline.yaml': pipelineYaml('data'),
      'sweep.yaml': 'pipeline: pipeline.yaml\ngrid:\n  train.optimizer: [adam]\n',
    });
    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    clean = (JSON.parse(first.stdout) as { trials: TrialRow[] }).trials;
    const plan = await runCli(['plan', sweep, '--workspace', ws, '--json']);
    const nodes = (JSON.parse(plan.stdout) as { nodes: { id: string; cacheKey: string }[] }).nodes;
    keys = new Map(nodes.map((node) => [node.id, node.cacheKey]));
  });

  it('records the size and sha256 of every output file', () => {
    const record = JSON.parse(readFileSync(nodeFile('t01/train', 'result.json'), 'utf8')) as {
      files: Record<string, { size: number; sha256: string }>;
    };
    const weights = record.files['model/weights.bin'];
    expect(weights?.size).toBe(statSync(nodeFile('t01/train', 'model/weights.bin')).size);
    expect(weights?.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('an emptied weights.bin is rebuilt by run, with one warning, into the same model', async () => {
    const before = readFileSync(nodeFile('t01/train', 'model/weights.bin'));
    writeFileSync(nodeFile('t01/train', 'model/weights.bin'), '');
    const again = await run();
    expect(again.code, again.stderr).toBe(0);
    const warnings = again.stderr.split('\n').filter((line) => line.startsWith('warning:'));
    expect(warnings).toEqual([
      `warning: t01/train: its cached output is damaged (model/weights.bin has 0 bytes, ${before.length.toLocaleString('en')} when built); building it again`,
    ]);
    expect(readFileSync(nodeFile('t01/train', 'model/weights.bin')).equals(before)).toBe(true);
    expect(metrics(again.stdout)).toEqual(clean.map((t) => t.metrics));
  });

  it('4 KiB overwritten in weights.bin: predict refuses in one line (exit 3), verify names the node', async () => {
    const file = nodeFile('t01/train', 'model/weights.bin');
    const original = readFileSync(file);
    const fd = openSync(file, 'r+');
    const span = Math.min(4096, original.length); // the tiny test model's weights are smaller than 4 KiB
    writeSync(fd, Buffer.alloc(span, 0x7f), 0, span, 0);
    closeSync(fd);
    const predict = await runCli([
      'predict',
      path.join(dir, 'data'),
      '--sweep',
      sweep,
      '--workspace',
      ws,
      '--trial',
      't01',
    ]);
    expect(predict.code).toBe(3);
    expect(predict.stderr).toBe(
      "pipeline: trial t01's model (node t01/train) is damaged: model/weights.bin has changed since it was built (sha256 differs); run the sweep again to rebuild it\n",
    );
    const verify = await runCli(['verify', sweep, '--workspace', ws]);
    expect(verify.code).toBe(3);
    expect(verify.stdout).toContain(
      'damaged t01/train: model/weights.bin has changed since it was built (sha256 differs)',
    );
    expect(verify.stdout).toMatch(/5 nodes in .*: 4 intact, 1 damaged/);
    writeFileSync(file, original);
    expect((await runCli(['verify', '--workspace', ws])).code).toBe(0);
  });

  it('a dataset cut in half is rebuilt by run; one changed in place is caught before a new trial reads it', async () => {
    const record = JSON.parse(readFileSync(nodeFile('t01/split', 'result.json'), 'utf8')) as { files: object };
    const dataset = Object.keys(record.files).find((name) => name.endsWith('.bin')) ?? '?';
    const file = nodeFile('t01/split', dataset);
    const original = readFileSync(file);
    truncateSync(file, Math.floor(original.length / 2));
    const halved = await run();
    expect(halved.code, halved.stderr).toBe(0);
    expect(halved.stderr).toContain(`warning: t01/split: its cached output is damaged (${dataset} has`);
    expect(readFileSync(file).equals(original)).toBe(true);
    // Same size, other bytes: reusing the node for cached trials only checks sizes, but a trial about to read it
    // (a new grid point) gets it hashed first.
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(64, 0xff), 0, 64, Math.floor(original.length / 2));
    closeSync(fd);
    const more = await run('--set', 'train.epochs=2');
    expect(more.code, more.stderr).toBe(0);
    expect(more.stderr).toContain(
      `warning: t01/split: its cached output is damaged (${dataset} has changed since it was built`,
    );
    expect(readFileSync(file).equals(original)).toBe(true);
  });
});
