import { describe, expect, it } from 'vitest';
import type { ExecuteOptions } from '../../../src/orchestrator/executor.js';
import { walkPlan } from '../../../src/orchestrator/walk-plan.js';
import { WorkspaceStore } from '../../../src/store/workspace-store.js';
import type { NodeOutcome, Plan, PlanNode } from '../../../src/types.js';
import { nodeRecord, planNode } from '../../helpers/plan-builder.js';
import { tempDir } from '../../helpers/temp-project.js';

// a → t1/b → t1/c, a → t2/b → t2/c
const plan: Plan = {
  sweep: 's',
  pipelineFile: 'p',
  trials: [],
  objective: { metric: 'm', goal: 'maximize' },
  nodes: [
    planNode('a'),
    planNode('t1/b', { needs: ['a'] }),
    planNode('t1/c', { needs: ['t1/b'] }),
    planNode('t2/b', { needs: ['a'] }),
    planNode('t2/c', { needs: ['t2/b'] }),
  ],
};

function options(overrides: Partial<ExecuteOptions> = {}): ExecuteOptions {
  return {
    store: new WorkspaceStore(tempDir()),
    force: new Set(),
    parallel: 2,
    backend: 'cpu',
    events: {},
    signal: new AbortController().signal,
    ...overrides,
  };
}

const states = (outcomes: Map<string, NodeOutcome>) =>
  Object.fromEntries([...outcomes].map(([id, o]) => [id, o.state]));

describe('walkPlan', () => {
  it('runs each node after its needs, never more than `parallel` at once', async () => {
    let running = 0;
    let peak = 0;
    const order: string[] = [];
    const outcomes = await walkPlan(plan, options({ parallel: 2 }), async (n) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 10));
      order.push(n.id);
      running -= 1;
      return nodeRecord(n);
    });
    expect(peak).toBe(2);
    expect(order[0]).toBe('a');
    expect(order.indexOf('t1/b')).toBeLessThan(order.indexOf('t1/c'));
    expect(Object.values(states(outcomes))).toEqual(['done', 'done', 'done', 'done', 'done']);
  });

  it('a failure skips its downstream while the other branch finishes', async () => {
    const outcomes = await walkPlan(plan, options(), (n) => {
      if (n.id === 't1/b') return Promise.reject(new Error('boom'));
      return Promise.resolve(nodeRecord(n));
    });
    expect(states(outcomes)).toEqual({
      a: 'done',
      't1/b': 'failed',
      't1/c': 'skipped',
      't2/b': 'done',
      't2/c': 'done',
    });
    expect(outcomes.get('t1/b')).toMatchObject({ error: 'boom', code: 'STAGE_FAILED' });
  });

  it('reuses stored outputs unless forced', async () => {
    const store = new WorkspaceStore(tempDir());
    for (const n of plan.nodes) await store.commit(await store.begin(n.cacheKey), nodeRecord(n));
    const ran: string[] = [];
    const run = (n: PlanNode) => {
      ran.push(n.id);
      return Promise.resolve(nodeRecord(n));
    };
    expect(Object.values(states(await walkPlan(plan, options({ store }), run)))).toEqual(new Array(5).fill('cached'));
    expect(ran).toEqual([]);
    await walkPlan(plan, options({ store, force: new Set(['t2/b', 't2/c']) }), run);
    expect(ran).toEqual(['t2/b', 't2/c']);
  });

  it('after cancellation starts nothing new', async () => {
    const controller = new AbortController();
    const outcomes = await walkPlan(plan, options({ signal: controller.signal }), (n) => {
      controller.abort();
      return Promise.resolve(nodeRecord(n));
    });
    expect(states(outcomes)).toMatchObject({ a: 'done', 't1/b': 'skipped', 't2/c': 'skipped' });
  });
});
