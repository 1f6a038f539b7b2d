import { describe, expect, it } from 'vitest';
import { collectTrialRows, type NodeKnowledge } from '../../../src/orchestrator/trial-results.js';
import { FakeSweep, nodeRecord } from '../../helpers/plan-builder.js';

const plan = new FakeSweep({ metric: 'val_accuracy', goal: 'maximize' })
  .share('split')
  .stage('train')
  .stage('evaluate')
  .addTrial({ 'train.lr': 0.001 })
  .addTrial({ 'train.lr': 0.01 })
  .addTrial({ 'train.lr': 0.1 })
  .plan();

describe('collectTrialRows with early stopping', () => {
  it('shows a trial whose train was stopped early as stopped, with why, ranked by its metrics, never failed', () => {
    const reason = 'asha rung 1: val_accuracy 0.5 below cutoff 0.8 (top 1/3 of 1 earlier trials)';
    const known: NodeKnowledge = new Map();
    for (const node of plan.nodes) {
      const stopped = node.id === 't02/train';
      const metrics: Record<string, number> =
        node.stage === 'evaluate' ? { val_accuracy: node.trial === 't01' ? 0.9 : 0.5 } : {};
      const record = nodeRecord(node, { metrics, summary: stopped ? { epochs: 1, earlyStop: reason } : {} });
      if (node.id === 't03/train') known.set(node.id, { state: 'failed', error: 'boom', code: 'STAGE_FAILED' });
      else if (node.id !== 't03/evaluate') known.set(node.id, { state: 'done', record });
    }
    const rows = collectTrialRows(plan, known);
    expect(rows.map((row) => [row.id, row.state, row.stopped])).toEqual([
      ['t01', 'done', undefined],
      ['t02', 'stopped', reason],
      ['t03', 'failed', undefined],
    ]);
    expect(rows[1]?.objective).toBe(0.5);
  });
});
