import { describe, expect, it } from 'vitest';
import { parseSetFlag } from '../../../src/spec/overrides.js';

describe('--set flags', () => {
  it('parses --set values as YAML', () => {
    expect(parseSetFlag('train.filters=[1, 2, 3]').value).toEqual([1, 2, 3]);
    expect(parseSetFlag('train.lr=1e-3').value).toBe(0.001);
    expect(parseSetFlag('train.optimizer=adam').value).toBe('adam');
    expect(() => parseSetFlag('train.lr')).toThrow(/expected stage\.key=value/);
  });
});
