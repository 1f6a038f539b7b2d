import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Who holds a node's build lock, as written in `locks/<cacheKey>.json`. */
export interface LockOwner {
  host: string;
  pid: number;
  /** Random per build attempt: names the attempt's checkpoint folder and fences its commit. */
  attemptId: string;
  /** When the owner last proved it is alive (ms since the epoch). */
  heartbeat: number;
}

/** A held build lock. */
export interface BuildLock {
  attemptId: string;
  /** Whether another process had the lock when this one asked: the node may have been built meanwhile. */
  waited: boolean;
  /** Aborted when the lock was taken over by another process (this process was frozen past the stale limit). */
  lost: AbortSignal;
  /** Re-reads the lock file: true while it still names this attempt. */
  stillOwned(): Promise<boolean>;
  release(): Promise<void>;
}

export interface LockTiming {
  /** How often the owner rewrites its heartbeat. */
  heartbeatMs: number;
  /** A lock whose heartbeat is older than this is stale and may be taken over. */
  staleMs: number;
  /** How often a waiting process looks again. */
  pollMs: number;
}

/** A lock whose heartbeat is older than this is stale: another process may take it over, `pipeline gc` removes it. */
export const STALE_LOCK_MS = 30_000;

const DEFAULT_TIMING: LockTiming = { heartbeatMs: 2_000, staleMs: STALE_LOCK_MS, pollMs: 250 };

/**
 * Takes the build lock of one cache key in a workspace, waiting while a live process holds it. The lock file is
 * written to a temporary name and hard-linked into place, which fails if a lock exists, so two processes can never
 * both create it. A stale lock (heartbeat too old, or its pid gone on this host) is replaced by a rename, and the
 * file is read back: whichever attempt it names after the rename owns the build.
 */
export async function acquireBuildLock(
  locksDir: string,
  cacheKey: string,
  options: { signal?: AbortSignal; timing?: Partial<LockTiming>; onWait?: (owner: LockOwner) => void } = {},
): Promise<BuildLock> {
  const timing = { ...DEFAULT_TIMING, ...options.timing };
  const file = path.join(locksDir, `${cacheKey}.json`);
  await mkdir(locksDir, { recursive: true });
  const me: LockOwner = {
    host: os.hostname(),
    pid: process.pid,
    attemptId: randomBytes(8).toString('hex'),
    heartbeat: 0,
  };
  let waited = false;
  for (;;) {
    options.signal?.throwIfAborted();
    if (await tryCreate(file, me)) break;
    const owner = await readOwner(file);
    if (owner && isStale(owner, timing.staleMs)) {
      await replace(file, me);
      await sleep(timing.pollMs);
      if ((await readOwner(file))?.attemptId === me.attemptId) break;
    }
    if (owner && !waited) options.onWait?.(owner);
    waited = true;
    await sleep(timing.pollMs);
  }
  return holdLock(file, me, waited, timing);
}

function holdLock(file: string, me: LockOwner, waited: boolean, timing: LockTiming): BuildLock {
  const lost = new AbortController();
  const stillOwned = async () => (await readOwner(file))?.attemptId === me.attemptId;
  const timer = setInterval(() => {
    void (async () => {
      if (!(await stillOwned())) lost.abort(new Error('the build lock was taken over by another process'));
      else await replace(file, me);
    })().catch(() => undefined);
  }, timing.heartbeatMs);
  timer.unref();
  return {
    attemptId: me.attemptId,
    waited,
    lost: lost.signal,
    stillOwned,
    async release() {
      clearInterval(timer);
      if (await stillOwned()) await rm(file, { force: true });
    },
  };
}

async function tryCreate(file: string, me: LockOwner): Promise<boolean> {
  const temp = await writeTemp(file, me);
  try {
    await link(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(temp, { force: true });
  }
}

async function replace(file: string, me: LockOwner): Promise<void> {
  await rename(await writeTemp(file, me), file);
}

async function writeTemp(file: string, me: LockOwner): Promise<string> {
  const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, JSON.stringify({ ...me, heartbeat: Date.now() }));
  return temp;
}

/** The lock's owner, or undefined when there is no lock (or it was just being replaced). */
export async function readOwner(file: string): Promise<LockOwner | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

/** A lock is stale when its owner stopped beating, or is a process of this host that no longer exists. */
export function isStale(owner: LockOwner, staleMs: number): boolean {
  if (Date.now() - owner.heartbeat > staleMs) return true;
  if (owner.host !== os.hostname()) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
