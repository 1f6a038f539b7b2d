import { describe, expect, it } from 'vitest';
import { expandGrid } from '../../../src/plan/expand-grid.js';

describe('expandGrid', () => {
  const grid = [
    { path: 'train.lr', values: [0.01, 0.001, 0.0001], origins: [] },
    { path: 'train.optimizer', values: ['rmsprop', 'adam'], origins: [] },
    { path: 'train.batchSize', values: [64, 32], origins: [] },
  ];

  it('gives every combination, first key varying slowest', () => {
    const trials = expandGrid({ grid, method: 'grid', samples: undefined, seed: 0 });
    expect(trials).toHaveLength(12);
    expect(trials[0]).toEqual({
      id: 't01',
      params: { 'train.lr': 0.01, 'train.optimizer': 'rmsprop', 'train.batchSize': 64 },
    });
    expect(trials[1]?.params['train.batchSize']).toBe(32);
    expect(trials[11]?.params).toEqual({ 'train.lr': 0.0001, 'train.optimizer': 'adam', 'train.batchSize': 32 });
    expect(new Set(trials.map((t) => JSON.stringify(t.params))).size).toBe(12);
  });

  it('random method draws distinct points, the same ones for the same seed', () => {
    const a = expandGrid({ grid, method: 'random', samples: 5, seed: 3 });
    const b = expandGrid({ grid, method: 'random', samples: 5, seed: 3 });
    const c = expandGrid({ grid, method: 'random', samples: 5, seed: 4 });
    expect(a).toHaveLength(5);
    expect(new Set(a.map((t) => JSON.stringify(t.params))).size).toBe(5);
    expect(b).toEqual(a);
    expect(c.map((t) => t.params)).not.toEqual(a.map((t) => t.params));
    expect(expandGrid({ grid, method: 'random', samples: 50, seed: 3 })).toHaveLength(12);
  });
});
