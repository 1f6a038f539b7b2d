import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { emptyBatch, type Batch } from './chunk-batch.js';
import { journalPath, readJournal, type JournalRecord, type LogRecord, type TagValue } from './journal.js';
import type { MlflowClient } from './mlflow-client.js';
import { MlflowError } from './mlflow-request.js';
import { acquireSinkLock, loadSinkState, saveSinkState, sinkStatePath, type SinkState } from './sink-state.js';

/** What one sync did. */
export interface SyncReport {
  /** Records sent this time. */
  sent: number;
  /** MLflow runs created this time. */
  runsCreated: number;
  /** Records the server refused, kept for the next sync (with MLflow's message). */
  rejected: { index: number; error: string }[];
  /** Bytes of a torn last journal line that were dropped. */
  droppedBytes: number;
}

export interface SyncOptions {
  workspaceRoot: string;
  client: MlflowClient;
}

// Consecutive log records of one run go out as one log-batch (split by chunkBatch); this caps what one batch gathers.
const GROUP_ENTITIES = 5000;

/**
 * Replays the workspace's journal to an MLflow server from where the last sync stopped. Idempotent: the state file
 * maps journal runs to MLflow runs and counts the records handled; a run is looked up by its `pipeline.localRunId`
 * tag before it is created; metric points keep their journaled timestamps, so a point re-sent after a lost answer
 * is the same point (MLflow's SQL store drops exact duplicates). A 4xx sets that one record aside and goes on; an
 * unreachable server stops the sync (throws) with everything handled so far saved.
 */
export async function syncJournal(options: SyncOptions): Promise<SyncReport> {
  const stateFile = sinkStatePath(options.workspaceRoot, options.client.uri);
  const release = acquireSinkLock(stateFile);
  try {
    const state = loadSinkState(stateFile, options.client.uri);
    const { records, droppedBytes } = readJournal(journalPath(options.workspaceRoot));
    const report: SyncReport = { sent: 0, runsCreated: 0, rejected: [], droppedBytes };
    const retry = state.rejected.map((entry) => entry.index);
    const fresh = Array.from({ length: Math.max(0, records.length - state.cursor) }, (_, i) => state.cursor + i);
    const replay = new Replay(options.client, state, report);
    for (const indices of [retry, fresh]) {
      for (let at = 0; at < indices.length;) {
        const group = groupAt(records, indices, at);
        await replay.send(group.map((index) => [index, records[index] as JournalRecord]));
        saveSinkState(stateFile, state);
        at += group.length;
      }
    }
    report.rejected = state.rejected;
    return report;
  } finally {
    release();
  }
}

/** How many journal records the server has not taken yet (set-aside ones included). */
export function countUnsynced(workspaceRoot: string, uri: string): number {
  const state = loadSinkState(sinkStatePath(workspaceRoot, uri), uri);
  return readJournal(journalPath(workspaceRoot)).records.length - state.cursor + state.rejected.length;
}

function groupAt(records: JournalRecord[], indices: number[], at: number): number[] {
  const first = records[indices[at] ?? -1];
  const group = [indices[at] ?? -1];
  if (first?.t !== 'log') return group;
  let entities = size(first);
  for (let i = at + 1; i < indices.length; i++) {
    const index = indices[i] ?? -1;
    const next = records[index];
    if (next?.t !== 'log' || next.id !== first.id || index !== (indices[i - 1] ?? -2) + 1) break;
    entities += size(next);
    if (entities > GROUP_ENTITIES) break;
    group.push(index);
  }
  return group;
}

function size(record: LogRecord): number {
  return (
    (record.metrics?.length ?? 0) + Object.keys(record.params ?? {}).length + Object.keys(record.tags ?? {}).length
  );
}

class Replay {
  constructor(
    private readonly client: MlflowClient,
    private readonly state: SinkState,
    private readonly report: SyncReport,
  ) {}

  /** Sends a group; a refused group of several records is retried one by one to find the refused ones. */
  async send(group: [number, JournalRecord][]): Promise<void> {
    try {
      await this.apply(group.map(([, record]) => record));
      for (const [index] of group) this.settle(index, undefined);
    } catch (error) {
      if (!(error instanceof MlflowError) || error.kind !== 'rejected') throw error;
      if (group.length === 1) this.settle(group[0]?.[0] ?? -1, error.message);
      else for (const entry of group) await this.send([entry]);
    }
  }

  private settle(index: number, error: string | undefined): void {
    const state = this.state;
    const wasRejected = state.rejected.findIndex((entry) => entry.index === index);
    if (wasRejected >= 0) state.rejected.splice(wasRejected, 1);
    if (error !== undefined) state.rejected.push({ index, error });
    else this.report.sent++;
    if (index >= state.cursor) state.cursor = index + 1;
  }

  private async apply(records: JournalRecord[]): Promise<void> {
    const first = records[0];
    if (!first) return;
    if (first.t === 'run') return this.ensureRun(first);
    const run = this.runOf(first.id);
    if (first.t === 'end') return this.client.updateRun(run.runId, first.status, first.time);
    if (first.t === 'files') return this.upload(run.artifactUri, first);
    const batch = emptyBatch();
    for (const record of records as LogRecord[]) this.addToBatch(batch, record);
    await this.client.logBatch(run.runId, batch);
  }

  private addToBatch(batch: Batch, record: LogRecord): void {
    for (const [key, value] of Object.entries(record.params ?? {})) batch.params.push({ key, value });
    for (const [key, value] of Object.entries(record.tags ?? {})) batch.tags.push({ key, value: this.resolve(value) });
    batch.metrics.push(...(record.metrics ?? []));
  }

  private async ensureRun(record: Extract<JournalRecord, { t: 'run' }>): Promise<void> {
    if (this.state.runs[record.id]) return;
    const experimentId = (this.state.experiments[record.experiment] ??= await this.client.ensureExperiment(
      record.experiment,
    ));
    const filter = `tags.\`pipeline.localRunId\` = '${record.id.replace(/'/g, "\\'")}'`;
    let run = (await this.client.searchRuns([experimentId], filter))[0];
    if (!run) {
      const tags = Object.fromEntries(Object.entries(record.tags).map(([key, value]) => [key, this.resolve(value)]));
      if (record.parent) tags['mlflow.parentRunId'] = this.runOf(record.parent).runId;
      tags['pipeline.localRunId'] = record.id;
      run = await this.client.createRun({ experimentId, name: record.name, startTime: record.time, tags });
      this.report.runsCreated++;
    }
    this.state.runs[record.id] = { runId: run.runId, experimentId, artifactUri: run.artifactUri };
  }

  private async upload(artifactUri: string, record: Extract<JournalRecord, { t: 'files' }>): Promise<void> {
    this.client.proxyPath(artifactUri);
    for (const file of record.files) {
      const source = path.join(record.root, file);
      if (!existsSync(source)) {
        throw new MlflowError('rejected', `artifact ${source} is gone from the workspace; it cannot be uploaded`);
      }
      await this.client.uploadArtifact(artifactUri, `${record.prefix}/${file}`, readFileSync(source));
    }
  }

  private runOf(id: string): SinkState['runs'][string] {
    const run = this.state.runs[id];
    if (!run) throw new MlflowError('rejected', `journal run ${id} is not in MLflow (its creation was refused)`);
    return run;
  }

  private resolve(value: TagValue): string {
    return typeof value === 'string' ? value : this.runOf(value.ref).runId;
  }
}
