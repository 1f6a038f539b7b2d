import { PipelineError } from '../errors.js';
import type { BackendChoice } from '../ml/backend-names.js';
import { acquireBuildLock } from '../store/build-lock.js';
import { buildManifest } from '../store/file-manifest.js';
import type { WorkspaceStore } from '../store/workspace-store.js';
import type { NodeRecord } from '../types.js';
import type { StageKind, StageProgress } from '../types.js';
import { runInChild } from './run-in-child.js';

/** A node to build, as plain data: what an executor hands to whoever runs it (a local pool or a queue worker). */
export interface NodeTask {
  nodeId: string;
  /** The grid values of the node's trial (`lr=0.01 optimizer=adam`), for error messages; absent on shared nodes. */
  trialLabel?: string;
  stage: string;
  kind: StageKind;
  cacheKey: string;
  params: Record<string, unknown>;
  /** Upstream output folders by stage kind (inside the shared workspace). */
  inputs: Partial<Record<StageKind, string>>;
  /**
   * For stages that re-read the original images (synthesize): the data folder its ingest input read, as this
   * process reaches it (a path relative to the stage process's working folder in queue jobs).
   */
  sourceData?: string;
  backend: BackendChoice;
}

export interface BuildHooks {
  onLog(message: string): void;
  onProgress(update: StageProgress): void;
  signal: AbortSignal;
  env?: Record<string, string>;
  /** Working folder of the stage process (default: this process's). */
  cwd?: string;
}

/**
 * Runs a node's stage in a child process inside a private build folder and commits it into the store.
 * The child's crash or error discards the build folder, so the store never holds a partial output. The node's
 * build lock makes one process at a time build it on this workspace: a process that had to wait reuses what the
 * holder committed, and only the attempt still holding the lock may commit (docs/node-builds.md).
 */
export async function buildNode(store: WorkspaceStore, task: NodeTask, hooks: BuildHooks): Promise<NodeRecord> {
  const lock = await acquireBuildLock(store.locksDir(), task.cacheKey, {
    signal: hooks.signal,
    onWait: (owner) => hooks.onLog(`waiting for ${owner.host} pid ${owner.pid}, which is building this node`),
  });
  try {
    const built = lock.waited ? await store.readRecord(task.cacheKey) : undefined;
    if (built) {
      hooks.onLog('built by another process meanwhile; reusing its output');
      return built;
    }
    const checkpointDir = await store.attemptCheckpointDir(task.cacheKey, lock.attemptId);
    const signal = AbortSignal.any([hooks.signal, lock.lost]);
    return await buildLocked(store, task, { ...hooks, signal }, checkpointDir, () => lock.stillOwned());
  } finally {
    await lock.release();
  }
}

async function buildLocked(
  store: WorkspaceStore,
  task: NodeTask,
  hooks: BuildHooks,
  checkpointDir: string,
  stillOwned: () => Promise<boolean>,
): Promise<NodeRecord> {
  const outDir = await store.begin(task.cacheKey);
  const startedAt = new Date();
  try {
    const { result, backend } = await runInChild(
      {
        nodeId: task.nodeId,
        ...(task.trialLabel === undefined ? {} : { trialLabel: task.trialLabel }),
        kind: task.kind,
        params: task.params,
        inputs: task.inputs,
        ...(task.sourceData === undefined ? {} : { sourceData: task.sourceData }),
        outDir,
        checkpointDir,
        backend: task.backend,
      },
      hooks,
    );
    const finishedAt = new Date();
    const { files } = await buildManifest(outDir);
    const record: NodeRecord = {
      ...result,
      cacheKey: task.cacheKey,
      stage: task.stage,
      kind: task.kind,
      params: task.params,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - startedAt.getTime(),
      backend,
      files,
    };
    // Fencing: a process frozen past the stale limit lost the node to another attempt and must not overwrite it.
    if (!(await stillOwned())) {
      throw new PipelineError('STAGE_FAILED', `${task.nodeId}: the build lock was taken over; output discarded`);
    }
    await store.commit(outDir, record);
    await store.dropCheckpoint(task.cacheKey);
    return record;
  } catch (error) {
    await store.discard(outDir);
    throw error;
  }
}
