import type { BackendChoice } from '../ml/backend-names.js';
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
 * The child's crash or error discards the build folder, so the store never holds a partial output.
 */
export async function buildNode(store: WorkspaceStore, task: NodeTask, hooks: BuildHooks): Promise<NodeRecord> {
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
        checkpointDir: store.checkpointDir(task.cacheKey),
        backend: task.backend,
      },
      hooks,
    );
    const finishedAt = new Date();
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
    };
    await store.commit(outDir, record);
    await store.dropCheckpoint(task.cacheKey);
    return record;
  } catch (error) {
    await store.discard(outDir);
    throw error;
  }
}
