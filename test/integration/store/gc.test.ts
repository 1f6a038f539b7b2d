import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { acquireBuildLock } from '../../../src/store/build-lock.js';
import { runCli } from '../../helpers/run-cli.js';
import { copySample, pipelineYaml, tempDir, writeFiles } from '../../helpers/temp-project.js';

/** The pid of a process that has exited: a lock naming it on this host is stale. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('pipeline gc', () => {
  const dir = tempDir('gc-');
  const ws = path.join(dir, 'ws');
  const at = (...parts: string[]) => path.join(ws, ...parts);
  let keys: Map<string, string>;

  beforeAll(async () => {
    copySample(path.join(dir, 'data'), 8);
    writeFiles(dir, {
      'pipeline.yaml': pipelineYaml('data'),
      'a.yaml': 'pipeline: pipeline.yaml\ngrid:\n  train.optimizer: [adam]\n',
      'b.yaml': 'pipeline: pipeline.yaml\ngrid:\n  train.optimizer: [rmsprop]\n',
    });
    for (const sweep of ['a.yaml', 'b.yaml']) {
      const run = await runCli(['run', path.join(dir, sweep), '--workspace', ws]);
      expect(run.code, run.stderr).toBe(0);
    }
    const plan = await runCli(['plan', path.join(dir, 'a.yaml'), '--workspace', ws, '--json']);
    keys = new Map(
      (JSON.parse(plan.stdout) as { nodes: { id: string; cacheKey: string }[] }).nodes.map((n) => [n.id, n.cacheKey]),
    );
  });

  it("removes a killed run's build folder, stale locks and committed nodes' checkpoints, and keeps a live build's", async () => {
    const train = keys.get('t01/train') ?? '';
    const pending = 'f'.repeat(64); // a node being built right now by a live process (this test)
    const lock = await acquireBuildLock(at('locks'), pending);
    const dead = { host: os.hostname(), pid: deadPid(), attemptId: '0123456789abcdef', heartbeat: Date.now() };
    writeFileSync(at('locks', `${'e'.repeat(64)}.json`), JSON.stringify(dead));
    for (const folder of [`tmp/${'e'.repeat(16)}-0badc0de`, `tmp/${'f'.repeat(16)}-1234abcd`]) {
      mkdirSync(at(folder, 'model'), { recursive: true });
      writeFileSync(at(folder, 'model', 'weights.bin'), Buffer.alloc(1000));
    }
    mkdirSync(at('checkpoints', train, '0123456789abcdef'), { recursive: true });
    writeFileSync(at('checkpoints', train, '0123456789abcdef', 'weights.bin'), Buffer.alloc(500));
    mkdirSync(at('tmp', 'pull-recent-00000000'), { recursive: true }); // a download under way: too recent to touch
    try {
      const dry = await runCli(['gc', '--workspace', ws, '--dry-run']);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toContain(`would remove build folder: ${at('tmp', `${'e'.repeat(16)}-0badc0de`)}`);
      expect(dry.stdout).toContain(`would remove stale lock: ${at('locks', `${'e'.repeat(64)}.json`)}`);
      expect(dry.stdout).toContain(`would remove checkpoints: ${at('checkpoints', train)}`);
      expect(dry.stdout).toMatch(/would remove 1 build folder, 1 stale lock, 1 checkpoints \(0\.0 MB\) in /);
      expect(existsSync(at('tmp', `${'e'.repeat(16)}-0badc0de`))).toBe(true);
      const gc = await runCli(['gc', '--workspace', ws]);
      expect(gc.code, gc.stderr).toBe(0);
      expect(readdirSync(at('tmp')).sort()).toEqual([`${'f'.repeat(16)}-1234abcd`, 'pull-recent-00000000']);
      expect(readdirSync(at('locks'))).toEqual([`${pending}.json`]);
      expect(existsSync(at('checkpoints', train))).toBe(false);
      const old = new Date(Date.now() - 3_600_000);
      utimesSync(at('tmp', 'pull-recent-00000000'), old, old);
      expect((await runCli(['gc', '--workspace', ws])).stdout).toContain('removed 1 temporary folder');
    } finally {
      await lock.release();
    }
  });

  it('--unreferenced removes the nodes only other sweeps used; the kept sweep stays fully cached', async () => {
    const gc = await runCli(['gc', '--workspace', ws, '--unreferenced', path.join(dir, 'a.yaml')]);
    expect(gc.code, gc.stderr).toBe(0);
    // b's train, evaluate and visualize (and the first test's build folder, whose lock is released now)
    expect(gc.stdout).toMatch(/^removed .*3 unreferenced nodes \(/m);
    expect(readdirSync(at('nodes')).sort()).toEqual([...keys.values()].sort());
    const plan = await runCli(['plan', path.join(dir, 'a.yaml'), '--workspace', ws]);
    expect(plan.stdout).toMatch(/5 nodes: 5 cached, 0 to run/);
    const other = await runCli(['plan', path.join(dir, 'b.yaml'), '--workspace', ws]);
    expect(other.stdout).toMatch(/5 nodes: 2 cached, 3 to run/);
  });

  it('a normal run removes build folders that killed runs left in tmp/', async () => {
    mkdirSync(at('tmp', `${'d'.repeat(16)}-00000000`), { recursive: true });
    const run = await runCli(['run', path.join(dir, 'a.yaml'), '--workspace', ws]);
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(at('tmp', `${'d'.repeat(16)}-00000000`))).toBe(false);
  });
});
