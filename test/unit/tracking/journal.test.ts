import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { foldJournal, tagText, type JournalRecord } from '../../../src/tracking/journal-records.js';
import { Journal } from '../../../src/tracking/journal.js';
import { tempDir } from '../../helpers/temp-project.js';

describe('Journal', () => {
  it('recovers up to the last complete record after a torn write, and cuts the torn tail before appending', () => {
    const journal = new Journal(path.join(tempDir(), 'tracking', 'journal.jsonl'));
    journal.append([{ t: 'end', id: 'a', status: 'FINISHED', time: 1 }]);
    appendFileSync(journal.file, '{"t":"log","id":"a","met');
    expect(journal.read()).toMatchObject({ records: [{ id: 'a' }], droppedBytes: 24 });
    new Journal(journal.file).append([{ t: 'end', id: 'b', status: 'FAILED', time: 2 }]);
    expect(journal.read().records.map((r) => r.id)).toEqual(['a', 'b']);
    expect(journal.read().droppedBytes).toBe(0);
  });

  it('a damaged line before the end is a one-line STORE_INVALID error naming the line', () => {
    const file = path.join(tempDir(), 'journal.jsonl');
    writeFileSync(file, '{"t":"end","id":"a"}\nnot json\n{"t":"end","id":"b"}\n');
    expect(() => new Journal(file).read()).toThrow(/journal\.jsonl:2: not a tracking record/);
    expect(() => new Journal(file).read()).toThrow(expect.objectContaining({ code: 'STORE_INVALID' }) as Error);
  });

  it('gives a new journal a random identity as its first record; a journal without one keeps none', () => {
    const journal = new Journal(path.join(tempDir(), 'tracking', 'journal.jsonl'));
    const identity = journal.identity();
    expect(identity).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Journal(journal.file).identity()).toBe(identity);
    expect(new Journal(path.join(tempDir(), 'j.jsonl')).identity()).not.toBe(identity);
    const legacy = new Journal(path.join(tempDir(), 'old.jsonl'));
    legacy.append([{ t: 'end', id: 'a', status: 'FINISHED', time: 1 }]);
    expect(legacy.identity()).toBeUndefined();
    expect(legacy.read().records).toHaveLength(1);
  });

  it('a missing journal reads as empty', () => {
    const journal = new Journal(path.join(tempDir(), 'none.jsonl'));
    expect(journal.read()).toEqual({ records: [], droppedBytes: 0 });
    expect(journal.fold().size).toBe(0);
  });
});

describe('foldJournal', () => {
  const records: JournalRecord[] = [
    { t: 'run', id: 'p', experiment: 'e', name: 'sweep', tags: { 'pipeline.sweep': 's' }, time: 10 },
    { t: 'run', id: 'p/t01', experiment: 'e', name: 'lr=0.1', parent: 'p', tags: { up: { ref: 'p' } }, time: 11 },
    { t: 'log', id: 'p/t01', node: 'k1', params: { 'train.lr': '0.1' }, tags: { a: '1' } },
    { t: 'log', id: 'p/t01', metrics: [{ key: 'loss', value: 0.5, step: 1, timestamp: 12 }] },
    { t: 'log', id: 'p/t01', node: 'k1', metrics: [{ key: 'loss', value: 'NaN', step: 2, timestamp: 13 }] },
    { t: 'files', id: 'p/t01', node: 'k1', root: '/ws/nodes/k1', files: ['report.txt'], prefix: 'train' },
    { t: 'log', id: 'never-opened', params: { x: '1' } },
    { t: 'end', id: 'p/t01', status: 'FAILED', time: 14 },
    { t: 'end', id: 'p', status: 'KILLED', time: 15 },
    { t: 'reopen', id: 'p', time: 16, clearTags: ['pipeline.sweep'] },
  ];

  it('folds records into runs in the order they were opened, counting how often each node was logged', () => {
    const runs = foldJournal(records);
    expect([...runs.keys()]).toEqual(['p', 'p/t01']);
    const trial = runs.get('p/t01');
    expect(trial).toMatchObject({
      parent: 'p',
      startTime: 11,
      status: 'FAILED',
      endTime: 14,
      params: { 'train.lr': '0.1' },
      tags: { up: { ref: 'p' }, a: '1' },
      files: ['train/report.txt'],
    });
    expect(trial?.metrics.loss?.map((point) => point.value)).toEqual([0.5, 'NaN']);
    expect([...(trial?.nodes ?? [])]).toEqual([['k1', 2]]);
    expect(runs.get('p')).toMatchObject({ status: 'RUNNING', endTime: undefined, tags: {} });
  });

  it('keeps each data set input once, models by key, documents and registrations', () => {
    const input = {
      name: 'd-train',
      digest: 'ab',
      context: 'train',
      sourceType: 'local',
      source: '',
      schema: '',
      profile: '',
    };
    const runs = foldJournal([
      records[0] as JournalRecord,
      { t: 'inputs', id: 'p', datasets: [input] },
      { t: 'inputs', id: 'p', datasets: [input, { ...input, context: 'val' }] },
      { t: 'doc', id: 'p', path: 'pipeline.json', doc: { a: 1 } },
      { t: 'doc', id: 'p', path: 'pipeline.json', doc: { a: 2 } },
      { t: 'register', id: 'p', model: 'm', name: 'reg', tags: {} },
    ]);
    const view = runs.get('p');
    expect(view?.inputs.map((i) => i.context)).toEqual(['train', 'val']);
    expect(view?.files).toEqual(['pipeline.json']);
    expect(view?.registered).toEqual([{ name: 'reg', model: 'm' }]);
  });

  it('shows a reference to another run by its journal id', () => {
    expect(tagText('plain')).toBe('plain');
    expect(tagText({ ref: 'p/t01' })).toBe('→ p/t01');
  });
});
