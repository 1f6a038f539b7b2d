import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal } from '../../../src/tracking/journal.js';
import { readNodeFolder } from '../../../src/tracking/node-folder.js';
import { FakeSweep } from '../../helpers/plan-builder.js';
import { tempDir, writeFiles } from '../../helpers/temp-project.js';
import { nodeFolders, splitPart, trackSweep } from '../../helpers/tracked-sweep.js';

const plan = new FakeSweep()
  .share('ingest', { dataDir: '/data/face-mask' })
  .share('split')
  .stage('train')
  .addTrial({ 'train.lr': 0.1 })
  .addTrial({ 'train.lr': 0.01 })
  .plan();

describe('sweep tracker', () => {
  it("journals a sweep with the node folders' artifacts, models and data sets; a cached re-run adds nothing", () => {
    const store = nodeFolders(plan);
    expect(trackSweep(store, plan)).toBeGreaterThan(0);
    const journal = new Journal(store.trackingPaths().journal);
    const [parent, t01] = journal.fold().values();
    expect(parent?.files).toEqual(['ingest/report.txt', 'split/report.txt', 'pipeline.json']);
    expect(t01?.files).toEqual(['train/history.json', 'train/report.txt', 'pipeline.json']);
    const records = journal.read().records;
    expect(records[0]).toMatchObject({ t: 'workspace' });
    expect(records.find((r) => r.t === 'files' && r.id === t01?.id)).toMatchObject({
      root: store.nodeDir('key-t01-train'),
    });
    const model = [...(t01?.models.values() ?? [])][0];
    expect(model).toMatchObject({ root: store.nodeDir('key-t01-train') + '/model', step: 1 });
    expect(model?.files).toEqual(['classes.json', 'model.json', 'weights.bin']);
    expect(t01?.inputs.map((input) => [input.name, input.context])).toEqual([
      ['face-mask-train', 'train'],
      ['face-mask-val', 'val'],
    ]);
    const before = readFileSync(journal.file, 'utf8');
    expect(trackSweep(store, plan, { cached: new Set(plan.nodes.map((n) => n.id)) })).toBe(0);
    expect(readFileSync(journal.file, 'utf8')).toBe(before);
  });

  it("logs a cached node's history.json as the epoch series (from step 0) of a run that never saw it train", () => {
    const store = nodeFolders(plan);
    trackSweep(store, plan, { cached: new Set(plan.nodes.map((n) => n.id)) });
    const t02 = [...new Journal(store.trackingPaths().journal).fold().values()][2];
    expect(t02?.metrics.loss?.map((p) => [p.step, p.value])).toEqual([
      [0, 1],
      [1, 0.5],
    ]);
  });
});

describe('readNodeFolder', () => {
  it('keeps reports and plots; leaves out result.json, data sets, and a model folder that becomes a LoggedModel', () => {
    const dir = writeFiles(tempDir(), {
      'result.json': '{}',
      'train.bin': '',
      'train.json': '{}',
      'split.json': '{}',
      'model/model.json': '{"generatedBy":"TensorFlow.js tfjs-layers v4.22.0"}',
      'model/weights.bin': '',
      'model/classes.json': '{"classes":["a","b"],"shape":[8,8,3],"model":"basic-cnn"}',
    });
    mkdirSync(path.join(dir, 'empty'));
    expect(readNodeFolder(dir, { kind: 'evaluate' }).artifacts).toEqual([
      'model/classes.json',
      'model/model.json',
      'model/weights.bin',
      'split.json',
    ]);
    const train = readNodeFolder(dir, { kind: 'train', preprocessOf: () => 'unit' });
    expect(train.artifacts).toEqual(['split.json']);
    expect(train.model).toEqual({
      root: path.join(dir, 'model'),
      files: ['classes.json', 'model.json', 'weights.bin'],
      classes: ['a', 'b'],
      shape: [8, 8, 3],
      family: 'basic-cnn',
      tfjsVersion: '4.22.0',
      preprocess: 'unit',
    });
  });

  it("reads a split's parts: classes, counts per class, shape, and a hash of the stored header and pixels", () => {
    const part = splitPart([0, 1, 1]);
    const dir = writeFiles(tempDir(), { 'train.json': part.json ?? '', 'train.bin': part.bin ?? '' });
    const [train, ...rest] = readNodeFolder(dir, { kind: 'split' }).datasets?.() ?? [];
    const digest = createHash('sha256')
      .update(part.json ?? '')
      .update(part.bin ?? '')
      .digest('hex')
      .slice(0, 16);
    expect(train).toEqual({ part: 'train', digest, classes: ['a', 'b'], counts: [1, 2], shape: [2, 2, 3] });
    expect(rest).toEqual([]);
  });

  it('reads the history rows that have an epoch (null as NaN); a damaged history or a missing folder is empty', () => {
    const dir = writeFiles(tempDir(), { 'history.json': '[{"epoch":1,"loss":0.5,"val_loss":null},{"note":"x"}]' });
    expect(readNodeFolder(dir, { kind: 'train' }).history).toEqual([
      { epoch: 1, metrics: { loss: 0.5, val_loss: NaN } },
    ]);
    writeFiles(dir, { 'history.json': '[{"epoch":1,' });
    expect(readNodeFolder(dir, { kind: 'train' }).history).toEqual([]);
    expect(readNodeFolder(path.join(dir, 'gone'), { kind: 'train' })).toEqual({
      root: path.join(dir, 'gone'),
      artifacts: [],
      history: [],
    });
  });
});
