import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeTask } from '../../../src/orchestrator/local-executor.js';
import { planSweep } from '../../../src/plan/plan-sweep.js';
import { loadSweep } from '../../../src/spec/load-sweep.js';
import { WorkspaceStore } from '../../../src/store/workspace-store.js';
import { ROOT } from '../../helpers/temp-project.js';

describe('nodeTask', async () => {
  const plan = planSweep(await loadSweep(path.join(ROOT, 'experiments/sweeps/lr-optimizer.yaml')));
  const store = new WorkspaceStore('/shared/ws');
  const task = (id: string) => {
    const node = plan.nodes.find((candidate) => candidate.id === id);
    if (!node) throw new Error(`no node ${id}`);
    return nodeTask(plan, node, { store, backend: 'auto' });
  };

  it("carries a trial node's grid values, for errors to name, and its upstream folders", () => {
    const evaluate = plan.nodes.find((node) => node.id === 't05/evaluate');
    expect(task('t05/evaluate')).toEqual({
      nodeId: 't05/evaluate',
      trialLabel: 'lr=0.001 optimizer=rmsprop batchSize=64',
      stage: 'evaluate',
      kind: 'evaluate',
      cacheKey: evaluate?.cacheKey,
      params: evaluate?.params,
      inputs: {
        train: store.nodeDir(plan.nodes.find((node) => node.id === 't05/train')?.cacheKey ?? ''),
        split: store.nodeDir(plan.nodes.find((node) => node.id === 'split')?.cacheKey ?? ''),
      },
      backend: 'auto',
    });
  });

  it('a node the trials share has no trial label', () => {
    expect(task('split')).not.toHaveProperty('trialLabel');
    expect(task('ingest').inputs).toEqual({});
  });
});
