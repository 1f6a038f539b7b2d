import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { acquireBuildLock } from '../../../src/store/build-lock.js';
import { tempDir } from '../../helpers/temp-project.js';

const timing = { heartbeatMs: 50, staleMs: 400, pollMs: 20 };

describe('build locks', () => {
  it('a second taker waits for the holder and knows it waited', async () => {
    const dir = tempDir();
    const first = await acquireBuildLock(dir, 'k', { timing });
    expect(first.waited).toBe(false);
    let waitedFor: number | undefined;
    const second = acquireBuildLock(dir, 'k', { timing, onWait: (owner) => (waitedFor = owner.pid) });
    await sleep(200);
    expect(waitedFor).toBe(process.pid);
    await first.release();
    const lock = await second;
    expect(lock.waited).toBe(true);
    expect(lock.attemptId).not.toBe(first.attemptId);
    await lock.release();
  });

  it('takes over the lock of a process that is gone', async () => {
    const dir = tempDir();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    const owner = { host: os.hostname(), pid: dead, attemptId: 'dead', heartbeat: Date.now() };
    writeFileSync(path.join(dir, 'k.json'), JSON.stringify(owner));
    const lock = await acquireBuildLock(dir, 'k', { timing });
    expect(JSON.parse(readFileSync(path.join(dir, 'k.json'), 'utf8'))).toMatchObject({ attemptId: lock.attemptId });
    await lock.release();
  });

  it('takes over a lock whose heartbeat stopped, and the frozen holder learns it lost it (fencing)', async () => {
    const dir = tempDir();
    const other = { host: 'another-host', pid: 1, attemptId: 'frozen', heartbeat: Date.now() - 10_000 };
    writeFileSync(path.join(dir, 'k.json'), JSON.stringify(other));
    const lock = await acquireBuildLock(dir, 'k', { timing });
    expect(await lock.stillOwned()).toBe(true);
    // Another process takes it over while this one still runs: the next heartbeat notices and aborts `lost`.
    writeFileSync(path.join(dir, 'k.json'), JSON.stringify({ ...other, attemptId: 'newer', heartbeat: Date.now() }));
    expect(await lock.stillOwned()).toBe(false);
    await sleep(200);
    expect(lock.lost.aborted).toBe(true);
    await lock.release();
    expect(JSON.parse(readFileSync(path.join(dir, 'k.json'), 'utf8'))).toMatchObject({ attemptId: 'newer' });
  });

  it('a live holder on another host keeps its lock while it beats', async () => {
    const dir = tempDir();
    const live = { host: 'another-host', pid: 1, attemptId: 'live', heartbeat: Date.now() };
    writeFileSync(path.join(dir, 'k.json'), JSON.stringify(live));
    const controller = new AbortController();
    const taking = acquireBuildLock(dir, 'k', { timing, signal: controller.signal });
    await sleep(150);
    controller.abort();
    await expect(taking).rejects.toThrow();
    expect(JSON.parse(readFileSync(path.join(dir, 'k.json'), 'utf8'))).toMatchObject({ attemptId: 'live' });
  });
});
