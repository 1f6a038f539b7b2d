import { describe, expect, it } from 'vitest';
import type { ExecuteOptions, NodeOutcome } from '../../src/orchestrator/executor.js';
import { walkPlan } from '../../src/orchestrator/walk-plan.js';
import { WorkspaceStore, type NodeRecord } from '../../src/store/workspace-store.js';
import type { Plan, PlanNode } from '../../src/types.js';
import { tempDir } from '../helpers/temp-project.js';

const node = (id: string, needs: string[] = []): PlanNode => ({
  id,
  stage: id.split('/').pop() ?? id,
  kind: 'train',
  trial: null,
  trials: [],
  needs,
  cacheKey: `key-${id.replace('/', '-')}`,
  params: {},
  resources: { gpu: 0 },
});

// a → b1 → c1, a → b2 → c2
const plan: Plan = {
  sweep: 's',
  pipelineFile: 'p',
  trials: [],
  objective: { metric: 'm', goal: 'maximize' },
  nodes: [node('a'), node('t1/b', ['a']), node('t1/c', ['t1/b']), node('t2/b', ['a']), node('t2/c', ['t2/b'])],
};

const record = (n: PlanNode): NodeRecord => ({
  cacheKey: n.cacheKey,
  stage: n.stage,
  kind: n.kind,
  params: {},
  metrics: {},
  summary: {},
  startedAt: '',
  finishedAt: '',
  durationMs: 0,
});

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
      return record(n);
    });
    expect(peak).toBe(2);
    expect(order[0]).toBe('a');
    expect(order.indexOf('t1/b')).toBeLessThan(order.indexOf('t1/c'));
    expect(Object.values(states(outcomes))).toEqual(['done', 'done', 'done', 'done', 'done']);
  });

  it('a failure skips its downstream while the other branch finishes', async () => {
    const outcomes = await walkPlan(plan, options(), (n) => {
      if (n.id === 't1/b') return Promise.reject(new Error('boom'));
      return Promise.resolve(record(n));
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
    for (const n of plan.nodes) await store.commit(await store.begin(n.cacheKey), record(n));
    const ran: string[] = [];
    const run = (n: PlanNode) => {
      ran.push(n.id);
      return Promise.resolve(record(n));
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
      return Promise.resolve(record(n));
    });
    expect(states(outcomes)).toMatchObject({ a: 'done', 't1/b': 'skipped', 't2/c': 'skipped' });
  });
});
