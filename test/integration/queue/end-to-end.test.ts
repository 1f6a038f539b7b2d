import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { completions, queueFlags, queueProject, trialsOf, useCliProcesses } from '../../helpers/queue-harness.js';
import { runCli } from '../../helpers/run-cli.js';

const redisUrl = inject('redisUrl');
const { startWorkers } = useCliProcesses();

describe('pipeline run --queue on real images', () => {
  it('gives the same cache keys and metrics as the local executor', async () => {
    const p = queueProject('  train.optimizer: [adam, rmsprop]\n', 20);
    const workers = startWorkers(2, redisUrl, p);
    const queued = await runCli(['run', p.sweep, ...queueFlags(redisUrl, p), '--json']);
    expect(queued.code, queued.stderr).toBe(0);
    const local = await runCli(['run', p.sweep, '--workspace', path.join(p.dir, 'local'), '--json']);
    expect(local.code, local.stderr).toBe(0);
    expect(readdirSync(path.join(p.ws, 'nodes')).sort()).toEqual(
      readdirSync(path.join(p.dir, 'local', 'nodes')).sort(),
    );
    const metrics = (stdout: string) => trialsOf(stdout).map((t) => [t.id, t.metrics] as const);
    const [a, b] = [metrics(queued.stdout), metrics(local.stdout)];
    expect(a.map(([id]) => id)).toEqual(b.map(([id]) => id));
    a.forEach(([, m], i) => {
      for (const [key, value] of Object.entries(m)) expect(value, key).toBeCloseTo(b[i]?.[1][key] ?? NaN, 5);
    });
    const done = completions(workers.map((w) => w.output()));
    expect([...done.values()].every((n) => n === 1)).toBe(true);
    expect(done.size).toBe(8);
    expect(workers.every((w) => /✔/.test(w.output()))).toBe(true); // both workers took work
  });
});
