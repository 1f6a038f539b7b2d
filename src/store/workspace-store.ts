import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError } from '../errors.js';
import type { NodeRecord } from '../types.js';

const RECORD = 'result.json';

/** Where a workspace keeps its tracking: the run journal, and one state file per MLflow server it was sent to. */
export interface TrackingPaths {
  /** `tracking/journal.jsonl`: every tracked event, one JSON record per line. */
  journal: string;
  /** `tracking/sinks/`: per server, which journal runs became which MLflow runs and how far it got. */
  sinksDir: string;
}

/** How build locks name an attempt (build-lock.ts): 16 hex digits. */
const ATTEMPT_ID = /^[0-9a-f]{16}$/;

/**
 * The workspace: content-addressed node outputs under `nodes/<cacheKey>/`. A node is built in `tmp/` and renamed
 * into place with its record already inside, so a crash never leaves an entry that looks complete.
 */
export class WorkspaceStore {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** Folder holding a node's outputs (present only once complete). */
  nodeDir(cacheKey: string): string {
    return path.join(this.root, 'nodes', cacheKey);
  }

  /** Whether a complete output exists for this key. */
  has(cacheKey: string): boolean {
    return existsSync(path.join(this.nodeDir(cacheKey), RECORD));
  }

  /** The record of a complete node, or undefined. */
  async readRecord(cacheKey: string): Promise<NodeRecord | undefined> {
    try {
      return JSON.parse(await readFile(path.join(this.nodeDir(cacheKey), RECORD), 'utf8')) as NodeRecord;
    } catch {
      return undefined;
    }
  }

  /** A fresh private folder for building a node's outputs. */
  async begin(cacheKey: string): Promise<string> {
    const dir = path.join(this.root, 'tmp', `${cacheKey.slice(0, 16)}-${randomBytes(4).toString('hex')}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /** Writes the record into `buildDir` and moves it into place, replacing an older output of the same key. */
  async commit(buildDir: string, record: NodeRecord): Promise<void> {
    await writeFile(path.join(buildDir, RECORD), `${JSON.stringify(record, null, 2)}\n`);
    const target = this.nodeDir(record.cacheKey);
    await mkdir(path.dirname(target), { recursive: true });
    if (existsSync(target)) {
      const old = `${buildDir}.replaced`;
      await rename(target, old);
      await rename(buildDir, target);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(buildDir, target);
    }
  }

  /** Removes a committed node (found damaged): moved out of `nodes/` at once, then deleted. */
  async discardNode(cacheKey: string): Promise<void> {
    const aside = path.join(this.root, 'tmp', `damaged-${cacheKey.slice(0, 16)}-${randomBytes(4).toString('hex')}`);
    await mkdir(path.dirname(aside), { recursive: true });
    await rename(this.nodeDir(cacheKey), aside).catch(() => undefined);
    await rm(aside, { recursive: true, force: true });
  }

  /** Drops a build folder that will not be committed. */
  async discard(buildDir: string): Promise<void> {
    await rm(buildDir, { recursive: true, force: true });
  }

  /** Where attempts of one node keep their checkpoints (not part of the node's output). */
  checkpointDir(cacheKey: string): string {
    return path.join(this.root, 'checkpoints', cacheKey);
  }

  /** Where nodes' build locks live (`locks/<cacheKey>.json`, see build-lock.ts). */
  locksDir(): string {
    return path.join(this.root, 'locks');
  }

  /**
   * The checkpoint folder of one build attempt, `checkpoints/<cacheKey>/<attemptId>/`, seeded with a copy of the
   * most recently written earlier attempt's folder (stages keep only their latest checkpoint there). Only the build
   * lock's holder calls this, so no other attempt is writing then.
   */
  async attemptCheckpointDir(cacheKey: string, attemptId: string): Promise<string> {
    const parent = this.checkpointDir(cacheKey);
    const mine = path.join(parent, attemptId);
    let newest: { dir: string; mtime: number } | undefined;
    // Attempt folders are named by attempt id; other folders there (the early-stopping gate) belong to the node.
    for (const attempt of existsSync(parent) ? await readdir(parent) : []) {
      if (!ATTEMPT_ID.test(attempt)) continue;
      const dir = path.join(parent, attempt);
      const info = await stat(dir).catch(() => undefined);
      if (info?.isDirectory() && (!newest || info.mtimeMs > newest.mtime)) newest = { dir, mtime: info.mtimeMs };
    }
    if (newest) await cp(newest.dir, mine, { recursive: true });
    await mkdir(mine, { recursive: true });
    return mine;
  }

  /** Removes a node's checkpoints once its output is committed. */
  async dropCheckpoint(cacheKey: string): Promise<void> {
    await rm(this.checkpointDir(cacheKey), { recursive: true, force: true });
  }

  /** The tracking journal and the sink states of this workspace. */
  trackingPaths(): TrackingPaths {
    const dir = path.join(this.root, 'tracking');
    return { journal: path.join(dir, 'journal.jsonl'), sinksDir: path.join(dir, 'sinks') };
  }

  /** Path of a per-sweep state file. */
  sweepFile(sweepName: string): string {
    return path.join(this.root, 'sweeps', `${sweepName}.json`);
  }

  /** Writes JSON atomically (temp file + rename). */
  async writeJson(file: string, value: unknown): Promise<void> {
    await mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`);
    await rename(temp, file);
  }

  /** Reads JSON written by {@link writeJson}, or undefined if absent. */
  async readJson<T>(file: string): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(file, 'utf8')) as T;
    } catch {
      return undefined;
    }
  }
}

/** Resolves a file name inside a node folder, refusing names that would escape it. */
export function outputPath(dir: string, name: string): string {
  const resolved = path.resolve(dir, name);
  if (path.isAbsolute(name) || !resolved.startsWith(path.resolve(dir) + path.sep)) {
    throw new PipelineError('STORE_INVALID', `output path '${name}' escapes the workspace`);
  }
  return resolved;
}
