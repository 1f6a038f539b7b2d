import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { computeCacheKey, planSweep } from '../../../src/plan/plan-sweep.js';
import { canonicalJson, sha256 } from '../../../src/util/hash.js';
import { loadSweep } from '../../../src/spec/load-sweep.js';
import { parseSetFlag } from '../../../src/spec/overrides.js';
import { ROOT } from '../../helpers/temp-project.js';

const lrOptimizer = path.join(ROOT, 'experiments/sweeps/lr-optimizer.yaml');

describe('planSweep on the lr-optimizer sweep', async () => {
  const sweep = await loadSweep(lrOptimizer);
  const plan = planSweep(sweep);

  it('shares ingest and split across all 12 trials and fans out at train', () => {
    const count = (stage: string) => plan.nodes.filter((n) => n.stage === stage).length;
    expect(plan.trials).toHaveLength(12);
    expect([count('ingest'), count('split'), count('train'), count('evaluate'), count('visualize')]).toEqual([
      1, 1, 12, 12, 12,
    ]);
    const split = plan.nodes.find((n) => n.stage === 'split');
    expect(split).toMatchObject({ id: 'split', trial: null, needs: ['ingest'] });
    expect(split?.trials).toHaveLength(12);
    const train = plan.nodes.find((n) => n.id === 't05/train');
    expect(train).toMatchObject({ trial: 't05', needs: ['split'] });
    expect(train?.params).toMatchObject({
      lr: 0.001,
      optimizer: 'rmsprop',
      batchSize: 64,
      epochs: 5,
      filters: [32, 64, 128],
    });
    expect(plan.nodes.find((n) => n.id === 't05/evaluate')?.needs).toEqual(['t05/train', 'split']);
  });

  it('lists nodes in dependency order', () => {
    const seen = new Set<string>();
    for (const node of plan.nodes) {
      for (const need of node.needs) expect(seen.has(need)).toBe(true);
      seen.add(node.id);
    }
  });

  it('is deterministic, and an override changes only the keys downstream of it', async () => {
    expect(planSweep(await loadSweep(lrOptimizer)).nodes.map((n) => n.cacheKey)).toEqual(
      plan.nodes.map((n) => n.cacheKey),
    );
    const changed = planSweep(await loadSweep(lrOptimizer, [parseSetFlag('split.seed=7')]));
    const key = (p: typeof plan, id: string) => p.nodes.find((n) => n.id === id)?.cacheKey;
    expect(key(changed, 'ingest')).toBe(key(plan, 'ingest'));
    for (const id of ['split', 't01/train', 't01/evaluate', 't01/visualize'])
      expect(key(changed, id)).not.toBe(key(plan, id));
    const evalOnly = planSweep(await loadSweep(lrOptimizer, [parseSetFlag('evaluate.digits=3')]));
    expect(key(evalOnly, 't01/train')).toBe(key(plan, 't01/train'));
    expect(key(evalOnly, 't01/evaluate')).not.toBe(key(plan, 't01/evaluate'));
  });

  it('puts a grid point that leaves a stage unchanged on one shared node', () => {
    // A grid over evaluate's threshold shares one train node between the two trials.
    const shared = planSweep({ ...sweep, grid: [{ path: 'evaluate.threshold', values: [0.4, 0.6], origins: [] }] });
    const train = shared.nodes.filter((n) => n.stage === 'train');
    expect(train).toHaveLength(1);
    expect(train[0]?.trials).toEqual(['t01', 't02']);
    expect(shared.nodes.filter((n) => n.stage === 'evaluate').map((n) => n.id)).toEqual([
      't01/evaluate',
      't02/evaluate',
    ]);
  });

  it('includes the data fingerprint in the ingest key', () => {
    const a = planSweep(sweep, { fingerprint: (stage) => (stage.kind === 'ingest' ? 'a' : undefined) });
    const b = planSweep(sweep, { fingerprint: (stage) => (stage.kind === 'ingest' ? 'b' : undefined) });
    expect(a.nodes[0]?.cacheKey).not.toBe(b.nodes[0]?.cacheKey);
    expect(a.nodes.at(-1)?.cacheKey).not.toBe(b.nodes.at(-1)?.cacheKey);
  });
});

describe('computeCacheKey', () => {
  const base = {
    kind: 'train',
    version: '1',
    params: { lr: 0.1, epochs: 2 },
    external: undefined,
    upstream: { split: 'abc' },
  };
  it('ignores key order but not values, versions or upstream keys', () => {
    const key = computeCacheKey(base);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(computeCacheKey({ ...base, params: { epochs: 2, lr: 0.1 } })).toBe(key);
    expect(computeCacheKey({ ...base, params: { lr: 0.2, epochs: 2 } })).not.toBe(key);
    expect(computeCacheKey({ ...base, version: '2' })).not.toBe(key);
    expect(computeCacheKey({ ...base, upstream: { split: 'abd' } })).not.toBe(key);
  });

  it('is the sha256 of the canonical JSON of its input, with or without an external fingerprint', () => {
    const inputs = [
      base,
      { ...base, external: 'folder:1a2b' },
      { ...base, params: { augment: { zoom: 0.1 }, b: [1] } },
    ];
    for (const input of inputs) expect(computeCacheKey(input)).toBe(sha256(canonicalJson(input)));
    // The same params object hashed again (memoised) under another upstream gives that upstream's key.
    const other = { ...base, upstream: { split: 'xyz' } };
    expect(computeCacheKey(other)).toBe(sha256(canonicalJson(other)));
  });
});
