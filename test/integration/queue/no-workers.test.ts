import { describe, expect, inject, it } from 'vitest';
import { queueFlags, queueProject, trialsOf, useCliProcesses, workerFlags } from '../../helpers/queue-harness.js';
import { stageFixtures } from '../../helpers/stage-fixtures.js';

// A Redis database of its own: live workers of other test files (other prefixes) would change the hints checked here.
const redisUrl = Object.assign(new URL(inject('redisUrl')), { pathname: '/3' }).toString();
const { launch, startWorkers } = useCliProcesses();
const fixtures = stageFixtures({ '*': 'succeed' });

describe('a queue that no live worker serves', () => {
  it('is named within seconds with how to start a worker; the run waits visibly, then gives up (exit 4)', async () => {
    const p = queueProject('  train.optimizer: [adam, rmsprop]\n');
    const started = Date.now();
    const run = launch(['run', p.sweep, ...queueFlags(redisUrl, p), '--wait-for-workers', '6']);
    const hint = `no worker serves queue cpu (prefix ${p.prefix}); start one: pipeline worker --queue ${redisUrl} --queue-prefix ${p.prefix} --devices cpu`;
    await run.waitFor(new RegExp(`${escape(hint)}; waiting up to 6 s \\(--wait-for-workers\\)\\n`), 15_000);
    expect(Date.now() - started).toBeLessThan(12_000);
    expect(await run.exited).toBe(4);
    expect(run.output()).toMatch(/ {2}ingest waiting \d+ s for a worker on queue cpu\n/);
    expect(run.output()).toMatch(
      new RegExp(
        `\\npipeline: ${escape(hint)}; gave up after 6 s \\(--wait-for-workers\\); its jobs stay queued for a worker to take\\n$`,
      ),
    );
  });

  it('with only GPU workers, names the cpu queue, and goes on as soon as a CPU worker turns up', async () => {
    const p = queueProject('  train.optimizer: [adam]\n');
    launch(['worker', ...workerFlags(redisUrl, p), '--workspace', p.ws, '--devices', 'gpu:0'], { env: fixtures });
    const run = launch(['run', p.sweep, ...queueFlags(redisUrl, p), '--json']);
    await run.waitFor(new RegExp(`no worker serves queue cpu \\(prefix ${p.prefix}\\); start one`), 15_000);
    const [cpu] = startWorkers(1, redisUrl, p, fixtures);
    await cpu?.waitFor(/serving/);
    expect(await run.exited).toBe(0);
    expect(run.output()).toMatch(/queue cpu: served now by \S+:\d+/);
    expect(trialsOf(run.output()).map((t) => t.state)).toEqual(['done']);
  });

  it('with workers on another prefix only, says a --queue-prefix may be wrong', async () => {
    const p = queueProject('  train.optimizer: [adam]\n');
    const elsewhere = { ...p, prefix: `${p.prefix}-other` };
    const [worker] = startWorkers(1, redisUrl, elsewhere, fixtures);
    await worker?.waitFor(/serving/);
    const run = launch(['run', p.sweep, ...queueFlags(redisUrl, p), '--wait-for-workers', '3']);
    // Earlier tests of this file may still have live workers on their prefixes; the one with ours must be named.
    const message = new RegExp(
      `no worker serves queue cpu \\(prefix ${escape(p.prefix)}\\); workers are live on prefix (\\S+, )*${escape(elsewhere.prefix)}(, \\S+)*: is --queue-prefix right\\?`,
    );
    await run.waitFor(message, 15_000);
    expect(await run.exited).toBe(4);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
