import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/util/hash.js';

/** The earlier implementation (a JSON.stringify replacer): cache keys must not change with the faster one. */
function replacerJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return inner;
    const entries = Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries);
  });
}

describe('canonicalJson', () => {
  it('sorts keys at every level and writes what the replacer-based version wrote', () => {
    const values: unknown[] = [
      { b: 1, a: [3, { d: 'x', c: null }], e: { g: true, f: -0.5 } },
      { kind: 'train', params: { lr: 1e-3, filters: [32, 64], augment: { zoom: 0.1 } }, upstream: { split: 'abc' } },
      { skip: undefined, nan: NaN, inf: Infinity, list: [undefined, 1], date: new Date(0), é: 'ü', Z: 1, a: 2 },
      [],
      {},
      'text',
      42,
    ];
    for (const value of values) expect(canonicalJson(value)).toBe(replacerJson(value));
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });
});
