import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { selectNodes } from '../../../src/cli/select-nodes.js';
import { planSweep } from '../../../src/plan/plan-sweep.js';
import { loadSweep } from '../../../src/spec/load-sweep.js';
import { ROOT } from '../../helpers/temp-project.js';

describe('selectNodes on the lr-optimizer sweep', async () => {
  const plan = planSweep(await loadSweep(path.join(ROOT, 'experiments/sweeps/lr-optimizer.yaml')));

  it('selects a stage, one trial, and what is downstream for rerun', () => {
    expect([...selectNodes(plan, { stage: 'evaluate' })]).toHaveLength(12);
    expect([...selectNodes(plan, { stage: 'evaluate', trial: 't03', downstream: true })]).toEqual([
      't03/evaluate',
      't03/visualize',
    ]);
    expect(selectNodes(plan, { stage: 'split', downstream: true }).size).toBe(1 + 36);
    expect(() => selectNodes(plan, { stage: 'fit' })).toThrow(/--stage fit: no such stage/);
    expect(() => selectNodes(plan, { stage: 'train', trial: 't99' })).toThrow(/--trial t99: no such trial/);
  });
});
