import { PipelineError } from '../errors.js';
import {
  QUEUE_PROTOCOL,
  type InputRef,
  type NodeStoreRef,
  type QueueJobData,
  type QueueJobResult,
} from '../queue/queue-protocol.js';
import { STAGES } from '../stages/catalog.js';
import { ArtifactProxyClient } from '../store/artifact-proxy-client.js';
import { fingerprintFolder, portableDataPath, publishDataFolder } from '../store/data-folder.js';
import { RemoteNodeStore } from '../store/remote-node-store.js';
import { ensureWorkspaceId } from '../store/workspace-id.js';
import type { WorkspaceStore } from '../store/workspace-store.js';
import type { NodeRecord, Plan, PlanNode, StageKind } from '../types.js';
import type { ExecuteOptions } from './executor.js';
import { nodeTask } from './local-executor.js';

/**
 * How nodes travel between the orchestrator's workspace and the workers'. Without a node store, every worker
 * mounts the run's workspace (named in jobs by its id, not its path). With one, each worker has a workspace of its
 * own: it pulls a job's inputs from the store and pushes its output; the orchestrator pulls every finished node
 * into its workspace. Either way a job carries no absolute path: data folders are published under their
 * fingerprint and ingest reads them as `../../data/<fingerprint>`.
 */
export class NodeTransport {
  private readonly attempts = new Map<string, string>();
  private readonly fingerprints = new Map<string, Promise<string>>();

  private constructor(
    private readonly store: WorkspaceStore,
    readonly ref: NodeStoreRef,
    readonly remote: RemoteNodeStore | undefined,
  ) {}

  /**
   * The transport of a run: through the node store at `nodeStore` (an MLflow server URL; check it first with
   * `ArtifactProxyClient.checkServing`), else the shared workspace.
   */
  static async open(store: WorkspaceStore, nodeStore: string | undefined, storeId: string): Promise<NodeTransport> {
    if (nodeStore === undefined) {
      return new NodeTransport(store, { kind: 'shared', workspaceId: await ensureWorkspaceId(store) }, undefined);
    }
    const client = new ArtifactProxyClient({ uri: nodeStore });
    return new NodeTransport(store, { kind: 'remote', uri: client.uri, storeId }, new RemoteNodeStore(client, storeId));
  }

  /** What the job of `node` carries: its task with inputs by cache key (and pushed attempt), its data folders. */
  async jobData(plan: Plan, node: PlanNode, execute: ExecuteOptions): Promise<QueueJobData> {
    const task = nodeTask(plan, node, execute);
    const byId = new Map(plan.nodes.map((candidate) => [candidate.id, candidate]));
    const upstream = node.needs.flatMap((id) => byId.get(id) ?? []);
    const inputs: Partial<Record<StageKind, InputRef>> = {};
    for (const up of upstream) {
      inputs[up.kind] = this.remote
        ? { cacheKey: up.cacheKey, attempt: await this.attemptOf(up) }
        : { cacheKey: up.cacheKey };
    }
    const params = { ...node.params };
    const data: string[] = [];
    if (node.kind === 'ingest' && typeof node.params.dataDir === 'string') {
      const fingerprint = await this.publishData(node.params.dataDir);
      params.dataDir = portableDataPath(fingerprint);
      data.push(fingerprint);
    }
    // Synthesize re-reads the originals: named by fingerprint, whichever machine built its ingest input.
    if (task.sourceData !== undefined) {
      const fingerprint = await this.publishData(task.sourceData);
      data.push(fingerprint);
      task.sourceData = portableDataPath(fingerprint);
    }
    return {
      protocol: QUEUE_PROTOCOL,
      task: { ...task, params, inputs },
      stageVersion: STAGES[node.kind].version,
      store: this.ref,
      data,
      force: execute.force.has(node.id),
    };
  }

  /**
   * Brings a finished node into the orchestrator's workspace and returns its record, or undefined when its output
   * is nowhere to be found. `result` is the completed job's return value, when there still is one.
   */
  async accept(node: PlanNode, result: QueueJobResult | undefined, force: boolean): Promise<NodeRecord | undefined> {
    if (this.remote) {
      const attempt = result?.attempt ?? (force ? undefined : await this.remote.readCommitted(node.cacheKey));
      if (attempt === undefined) return undefined;
      await this.remote.pullNode(this.store, node.cacheKey, attempt, force);
      this.attempts.set(node.cacheKey, attempt);
      if (result?.attempt) await this.remote.markCommitted(node.cacheKey, attempt);
    }
    return this.store.readRecord(node.cacheKey);
  }

  /** The node store's build of an upstream node; one this workspace has but the store lacks is pushed first. */
  private async attemptOf(node: PlanNode): Promise<string> {
    const known = this.attempts.get(node.cacheKey);
    if (known) return known;
    const remote = this.remote as RemoteNodeStore;
    let attempt = await remote.readCommitted(node.cacheKey);
    if (!attempt) {
      if (!this.store.has(node.cacheKey)) {
        throw new PipelineError(
          'STORE_INVALID',
          `${node.id}: not in ${this.store.root} nor in the node store ${remote.where}`,
        );
      }
      attempt = await remote.pushNode(this.store, node.cacheKey);
      await remote.markCommitted(node.cacheKey, attempt);
    }
    this.attempts.set(node.cacheKey, attempt);
    return attempt;
  }

  /** Publishes a data folder once per run: into the workspace as `data/<fingerprint>/`, and into the node store. */
  private publishData(dataDir: string): Promise<string> {
    let published = this.fingerprints.get(dataDir);
    if (!published) {
      published = (async () => {
        const fingerprint = fingerprintFolder(dataDir);
        const local = await publishDataFolder(this.store, dataDir, fingerprint);
        await this.remote?.pushData(local, fingerprint);
        return fingerprint;
      })();
      this.fingerprints.set(dataDir, published);
    }
    return published;
  }
}
