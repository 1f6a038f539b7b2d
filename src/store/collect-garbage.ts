import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { isStale, readOwner, STALE_LOCK_MS } from './build-lock.js';
import type { WorkspaceStore } from './workspace-store.js';

/** Downloads and set-aside folders in tmp/ that no build lock covers are left alone until they are this old. */
const UNLOCKED_TMP_MIN_AGE_MS = 10 * 60_000;

/** One thing `pipeline gc` removes (or would, with --dry-run). */
export interface Garbage {
  kind: 'build folder' | 'temporary folder' | 'stale lock' | 'checkpoints' | 'unreferenced node';
  path: string;
  bytes: number;
}

export interface GarbageOptions {
  /** Cache keys that must be kept: with it, every other node in `nodes/` is garbage too. */
  keep?: ReadonlySet<string>;
}

/**
 * Finds what a workspace holds that no run needs: build folders in `tmp/` of builds whose lock is gone or stale
 * (killed runs), other `tmp/` folders (downloads, replaced outputs) older than 10 minutes, stale build locks,
 * checkpoints of nodes already committed, and, when `keep` is given, nodes outside it. Anything a live build holds
 * a lock for is kept.
 */
export async function findGarbage(store: WorkspaceStore, options: GarbageOptions = {}): Promise<Garbage[]> {
  const live = await liveLocks(store);
  const found: Garbage[] = [];
  const add = async (kind: Garbage['kind'], file: string) =>
    found.push({ kind, path: file, bytes: await sizeOf(file) });
  for (const name of await list(path.join(store.root, 'tmp'))) {
    const file = path.join(store.root, 'tmp', name);
    const build = /^([0-9a-f]{16})-[0-9a-f]{8}$/.exec(name)?.[1];
    if (build !== undefined) {
      if (![...live].some((key) => key.startsWith(build))) await add('build folder', file);
    } else if (Date.now() - (await stat(file)).mtimeMs > UNLOCKED_TMP_MIN_AGE_MS) {
      await add('temporary folder', file);
    }
  }
  for (const name of await list(store.locksDir())) {
    const owner = name.endsWith('.json') ? await readOwner(path.join(store.locksDir(), name)) : undefined;
    if (owner && isStale(owner, STALE_LOCK_MS)) await add('stale lock', path.join(store.locksDir(), name));
  }
  for (const key of await list(path.join(store.root, 'checkpoints'))) {
    const unreferenced = options.keep !== undefined && !options.keep.has(key);
    if (!live.has(key) && (store.has(key) || unreferenced)) await add('checkpoints', store.checkpointDir(key));
  }
  if (options.keep) {
    for (const key of await list(path.join(store.root, 'nodes'))) {
      if (!options.keep.has(key) && !live.has(key)) await add('unreferenced node', store.nodeDir(key));
    }
  }
  return found;
}

/** Removes what {@link findGarbage} found; a stale lock is read once more first, in case it was just taken over. */
export async function removeGarbage(items: readonly Garbage[]): Promise<void> {
  for (const item of items) {
    if (item.kind === 'stale lock') {
      const owner = await readOwner(item.path);
      if (!owner || !isStale(owner, STALE_LOCK_MS)) continue;
    }
    await rm(item.path, { recursive: true, force: true });
  }
}

/** Cache keys whose build lock a live process holds. */
async function liveLocks(store: WorkspaceStore): Promise<Set<string>> {
  const live = new Set<string>();
  for (const name of await list(store.locksDir())) {
    if (!name.endsWith('.json')) continue;
    const owner = await readOwner(path.join(store.locksDir(), name));
    if (owner && !isStale(owner, STALE_LOCK_MS)) live.add(name.slice(0, -'.json'.length));
  }
  return live;
}

async function list(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

async function sizeOf(file: string): Promise<number> {
  const info = await stat(file).catch(() => undefined);
  if (!info) return 0;
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(file, { recursive: true, withFileTypes: true })) {
    if (entry.isFile())
      total += (await stat(path.join(entry.parentPath, entry.name)).catch(() => undefined))?.size ?? 0;
  }
  return total;
}
