import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { copySample, pipelineYaml, tempDir, writeFiles } from '../helpers/temp-project.js';

/** Bad input found by an audit: each is one line naming the file, field or flag, with the README's exit status. */
describe('bad input after a successful run', () => {
  const dir = tempDir('cli-errors-');
  const ws = path.join(dir, 'ws');
  const sweep = path.join(dir, 'sweep.yaml');
  const predict = (target: string, ...extra: string[]) =>
    runCli(['predict', target, '--sweep', sweep, '--workspace', ws, '--trial', 't01', ...extra]);

  beforeAll(async () => {
    copySample(path.join(dir, 'data'), 8);
    writeFiles(dir, {
      'pipeline.yaml': pipelineYaml('data'),
      'sweep.yaml': 'pipeline: pipeline.yaml\ngrid:\n  train.optimizer: [adam]\n',
      'notes/a.txt': 'not an image',
    });
    mkdirSync(path.join(dir, 'empty'));
    const run = await runCli(['run', sweep, '--workspace', ws]);
    expect(run.code, run.stderr).toBe(0);
  });

  it('predict on an empty folder, or one without images: exit 3, one line', async () => {
    const empty = await predict(path.join(dir, 'empty'));
    expect(empty.code).toBe(3);
    expect(empty.stderr).toBe(`pipeline: ${path.join(dir, 'empty')}: nothing to classify (no files)\n`);
    const notes = await predict(path.join(dir, 'notes'));
    expect(notes.code).toBe(3);
    expect(notes.stderr).toBe(
      `pipeline: ${path.join(dir, 'notes')}: nothing to classify (1 files, none of them an image)\n`,
    );
  });

  it('predict --out onto a folder is refused before computing; a missing folder is created', async () => {
    const onto = await predict(path.join(dir, 'data'), '--out', path.join(dir, 'empty'));
    expect(onto.code).toBe(2);
    expect(onto.stderr).toBe(
      `pipeline: --out ${path.join(dir, 'empty')}: is a folder; give the CSV file's name (e.g. ${path.join(dir, 'empty', 'predictions.csv')})\n`,
    );
    const nested = path.join(dir, 'out', 'deeper', 'predictions.csv');
    const made = await predict(path.join(dir, 'data'), '--out', nested);
    expect(made.code, made.stderr).toBe(0);
    expect(readFileSync(nested, 'utf8')).toMatch(/^file,truth,predicted,confidence\n/);
  });

  it('a sweep name that would write outside the workspace is refused (exit 2), nothing written', async () => {
    writeFiles(dir, {
      'escape.yaml': 'name: ../../escape\npipeline: pipeline.yaml\ngrid:\n  train.optimizer: [adam]\n',
    });
    const run = await runCli(['run', path.join(dir, 'escape.yaml'), '--workspace', ws]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^pipeline: .*escape\.yaml:1:7: name: a sweep name names files in the workspace/);
    expect(existsSync(path.join(dir, 'escape.json'))).toBe(false);
  });

  it('an objective metric no stage reports is refused at plan time (exit 2), naming the ones that exist', async () => {
    writeFiles(dir, {
      'objective.yaml': 'pipeline: pipeline.yaml\ngrid:\n  train.optimizer: [adam]\nobjective: { metric: val_acc }\n',
    });
    const run = await runCli(['run', path.join(dir, 'objective.yaml'), '--workspace', ws]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /^pipeline: .*objective\.yaml:4:22: objective\.metric: no stage of tiny reports 'val_acc'; its stages report images, skipped, train_images, val_images, loss, accuracy, val_loss, val_accuracy, best_val_accuracy, macro_f1/,
    );
    expect(run.stderr.split('\n')).toHaveLength(2);
  });

  it('a batch larger than the training set trains, with a warning on the console', async () => {
    writeFiles(dir, { 'batch.yaml': 'pipeline: pipeline.yaml\ngrid:\n  train.batchSize: [64]\n' });
    const run = await runCli(['run', path.join(dir, 'batch.yaml'), '--workspace', ws]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(
      'warning: t01/train: train.batchSize 64 is larger than the 12 training images; each epoch is one batch of 12',
    );
  });
});
