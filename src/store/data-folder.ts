import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError } from '../errors.js';
import { walkFiles } from '../util/walk-files.js';
import type { WorkspaceStore } from './workspace-store.js';

/** The files of a data folder, as sorted paths relative to it (what its fingerprint covers); links followed. */
export function listDataFiles(root: string): string[] {
  return walkFiles(root);
}

/**
 * Content hash of a data folder: every file's relative path and bytes, in sorted order. Part of an ingest node's
 * cache key, and the name the folder is published under for workers (`data/<fingerprint>/`).
 */
export function fingerprintFolder(root: string): string {
  const hash = createHash('sha256');
  for (const file of listDataFiles(root)) {
    hash
      .update(file)
      .update('\0')
      .update(readFileSync(path.join(root, file)))
      .update('\0');
  }
  return hash.digest('hex');
}

/**
 * Where a workspace keeps a published data folder: `data/<fingerprint>/`, two levels below the root like node
 * folders, so the relative path {@link portableDataPath} reaches it from a node folder and from the folder itself.
 */
export function dataFolder(store: WorkspaceStore, fingerprint: string): string {
  return path.join(store.root, 'data', fingerprint);
}

/** `../../data/<fingerprint>`: a data folder named relative to any folder two levels below the workspace root. */
export function portableDataPath(fingerprint: string): string {
  return path.posix.join('..', '..', 'data', fingerprint);
}

/**
 * Copies a data folder into the workspace as `data/<fingerprint>/` unless it is there already, and checks that the
 * copy still has that fingerprint (the folder did not change since it was planned). Returns the copy's path.
 */
export async function publishDataFolder(store: WorkspaceStore, source: string, fingerprint: string): Promise<string> {
  const target = dataFolder(store, fingerprint);
  if (existsSync(target)) return target;
  const temp = path.join(store.root, 'tmp', `data-${fingerprint.slice(0, 16)}-${randomBytes(4).toString('hex')}`);
  try {
    for (const file of listDataFiles(source)) {
      await mkdir(path.dirname(path.join(temp, file)), { recursive: true });
      await copyFile(path.join(source, file), path.join(temp, file));
    }
    if (fingerprintFolder(temp) !== fingerprint) {
      throw new PipelineError('DATA_INVALID', `data folder ${source} changed while the sweep was starting; run again`);
    }
    await mkdir(path.dirname(target), { recursive: true });
    await rename(temp, target).catch((error: NodeJS.ErrnoException) => {
      // Another process published the same folder first: equal content, keep theirs.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
  return target;
}
