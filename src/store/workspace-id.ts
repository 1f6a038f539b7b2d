import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { WorkspaceStore } from './workspace-store.js';

const FILE = 'workspace.json';

/**
 * A workspace's identity: a random id written once into `workspace.json`. Queue workers compare it with the one a
 * job names to know whether they share the run's workspace (the same folder, wherever each machine mounts it).
 */
export async function readWorkspaceId(store: WorkspaceStore): Promise<string | undefined> {
  try {
    const { id } = JSON.parse(await readFile(path.join(store.root, FILE), 'utf8')) as { id?: unknown };
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** The workspace's id, created (exclusively, so concurrent runs agree) when it has none yet. */
export async function ensureWorkspaceId(store: WorkspaceStore): Promise<string> {
  const existing = await readWorkspaceId(store);
  if (existing) return existing;
  await mkdir(store.root, { recursive: true });
  const id = randomUUID();
  const temp = path.join(store.root, `${FILE}.${id}.tmp`);
  await writeFile(temp, `${JSON.stringify({ id, createdAt: new Date().toISOString() })}\n`);
  // link() creates the name only if it is free, with the content already complete: the first run's id wins.
  await link(temp, path.join(store.root, FILE))
    .catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    })
    .finally(() => unlink(temp));
  const winner = await readWorkspaceId(store);
  if (!winner) throw new Error(`${path.join(store.root, FILE)} holds no workspace id`);
  return winner;
}
