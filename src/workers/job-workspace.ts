import { existsSync } from 'node:fs';
import { nodeContext, PipelineError } from '../errors.js';
import { QUEUE_PROTOCOL, type QueueJobData, type QueueJobResult } from '../queue/queue-protocol.js';
import { STAGES } from '../stages/catalog.js';
import { ArtifactProxyClient } from '../store/artifact-proxy-client.js';
import { dataFolder } from '../store/data-folder.js';
import { RemoteNodeStore } from '../store/remote-node-store.js';
import { readWorkspaceId } from '../store/workspace-id.js';
import type { WorkspaceStore } from '../store/workspace-store.js';
import type { StageKind } from '../types.js';
import type { NodeTask } from './build-node.js';

/**
 * Why this worker must not build a job, in one line, or undefined when it may: a job of another queue protocol, a
 * stage whose code version differs from this worker's (its output would be stored under a key it does not match),
 * or a shared workspace that is not this worker's.
 */
export async function refusalOf(data: QueueJobData, store: WorkspaceStore): Promise<string | undefined> {
  if ((data as Partial<QueueJobData>).protocol !== QUEUE_PROTOCOL) {
    const theirs = (data as Partial<QueueJobData>).protocol ?? 1;
    return `queued with queue protocol ${theirs}, this worker speaks ${QUEUE_PROTOCOL}: run workers of the orchestrator's pipeline version`;
  }
  const ours = STAGES[data.task.kind].version;
  if (ours !== data.stageVersion) {
    return `the run's ${data.task.kind} stage is version ${data.stageVersion}, this worker's is ${ours}: update this worker`;
  }
  if (data.store.kind === 'shared' && (await readWorkspaceId(store)) !== data.store.workspaceId) {
    return `the run's workspace is not this worker's (${store.root}): start it with --workspace <the shared folder>, or run with --node-store`;
  }
  return undefined;
}

/** The remote node store a job names, reached at `override` when the worker was given one (`--node-store`). */
export function remoteStoreFor(data: QueueJobData, override: string | undefined): RemoteNodeStore | undefined {
  if (data.store.kind !== 'remote') return undefined;
  return new RemoteNodeStore(new ArtifactProxyClient({ uri: override ?? data.store.uri }), data.store.storeId);
}

/**
 * The node's output if it exists already (a worker died after building it, or another run built it): in the
 * shared workspace, or the build the node store records as committed. A build this workspace holds that the node
 * store lacks is pushed rather than built again.
 */
export async function findBuilt(
  data: QueueJobData,
  store: WorkspaceStore,
  remote: RemoteNodeStore | undefined,
): Promise<QueueJobResult | undefined> {
  const key = data.task.cacheKey;
  const committed = remote && (await remote.readCommitted(key));
  if (remote && committed) await remote.pullNode(store, key, committed);
  const record = await store.readRecord(key);
  if (!record) return undefined;
  if (!remote) return { record };
  return { record, attempt: committed ?? (await remote.pushNode(store, key)) };
}

/**
 * The job as a task for `buildNode` in this worker's workspace: inputs pulled from the node store (when there is
 * one) and named by their folders here, data folders pulled too. The stage process runs inside the node's data
 * folder, where the `../../data/<fingerprint>` its params name resolves.
 */
export async function prepareTask(
  data: QueueJobData,
  store: WorkspaceStore,
  remote: RemoteNodeStore | undefined,
): Promise<{ task: NodeTask; cwd?: string }> {
  const context = nodeContext(data.task);
  const inputs: Partial<Record<StageKind, string>> = {};
  for (const [kind, ref] of Object.entries(data.task.inputs) as [StageKind, { cacheKey: string; attempt?: string }][]) {
    if (remote && ref.attempt) await remote.pullNode(store, ref.cacheKey, ref.attempt);
    if (!store.has(ref.cacheKey)) {
      const from = remote ? `the node store ${remote.where}` : `workspace ${store.root}`;
      throw new PipelineError(
        'STORE_INVALID',
        `${context}: its ${kind} input ${ref.cacheKey.slice(0, 12)} is not in ${from}`,
      );
    }
    inputs[kind] = store.nodeDir(ref.cacheKey);
  }
  for (const fingerprint of data.data) {
    const folder = remote ? await remote.pullData(store, fingerprint) : dataFolder(store, fingerprint);
    if (!existsSync(folder)) {
      throw new PipelineError(
        'STORE_INVALID',
        `${context}: data folder ${fingerprint.slice(0, 12)} is not in ${store.root}`,
      );
    }
  }
  const first = data.data[0];
  return {
    task: { ...data.task, inputs },
    ...(first === undefined ? {} : { cwd: dataFolder(store, first) }),
  };
}
