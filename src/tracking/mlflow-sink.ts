import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import path from 'node:path';
import { PipelineError } from '../errors.js';
import type { TrackingPaths } from '../store/workspace-store.js';
import type { JournalRecord, LogRecord, SyncReport } from './journal-records.js';
import { Journal } from './journal.js';
import type { MlflowClient } from './mlflow-client.js';
import { LOCAL_RUN_TAG, Replay, type SinkState } from './sink-replay.js';

/** Which journal runs (and registered models) one server holds. */
export interface SinkRuns {
  uri: string;
  /** Journal run id → MLflow run id. */
  runIds: Record<string, string>;
  /** `<name>\n<journal model key>` → the model version it became. */
  versions: Record<string, string>;
}

// Consecutive log records of one run go out as one log-batch (split by the client); this caps what one batch gathers.
const GROUP_ENTITIES = 5000;

/**
 * A workspace's journal replayed to one MLflow server, from where the last sync stopped. Idempotent: a state file
 * (`<sinksDir>/<hash of the URI>.json`) maps journal runs to MLflow runs and counts the records handled; a run is
 * looked up by its `pipeline.localRunId` tag before it is created; metric points keep their journaled timestamps,
 * so a point re-sent after a lost answer is the same point (MLflow's SQL store drops exact duplicates).
 */
export class MlflowSink {
  private readonly stateFile: string;
  private readonly journal: Journal;

  constructor(
    private readonly client: MlflowClient,
    paths: TrackingPaths,
  ) {
    const hash = createHash('sha256').update(client.uri).digest('hex').slice(0, 16);
    this.stateFile = path.join(paths.sinksDir, `${hash}.json`);
    this.journal = new Journal(paths.journal);
  }

  /** The server's URI, normalized. */
  get uri(): string {
    return this.client.uri;
  }

  /**
   * Sends what the server does not have yet. A 4xx sets that one record aside (TRACKING_REJECTED, in the report)
   * and goes on; an unreachable server stops the sync (throws TRACKING_UNAVAILABLE) with everything handled so far
   * saved; another process sending the same journal to the same server is TRACKING_BUSY.
   */
  async sync(): Promise<SyncReport> {
    const release = this.lock();
    try {
      const state = this.load();
      const { records, droppedBytes } = this.journal.read();
      const report: SyncReport = { sent: 0, runsCreated: 0, rejected: [], droppedBytes };
      const retry = state.rejected.map((entry) => entry.index);
      const fresh = Array.from({ length: Math.max(0, records.length - state.cursor) }, (_, i) => state.cursor + i);
      const replay = new Replay(this.client, state, report);
      for (const indices of [retry, fresh]) {
        for (let at = 0; at < indices.length;) {
          const group = groupAt(records, indices, at);
          await replay.send(group.map((index) => [index, records[index] as JournalRecord]));
          this.save(state);
          at += group.length;
        }
      }
      report.rejected = state.rejected;
      return report;
    } finally {
      release();
    }
  }

  /** The version a journaled model became under a registered name, once sent. */
  registeredVersion(name: string, model: string): string | undefined {
    return this.load().versions?.[`${name}\n${model}`];
  }

  /** How many journal records the server has not taken yet (set-aside ones included). */
  unsent(): number {
    const state = this.load();
    return this.journal.read().records.length - state.cursor + state.rejected.length;
  }

  /** Every server this workspace's journal was sent to, with the runs it holds (damaged state files are skipped). */
  static list(paths: TrackingPaths): SinkRuns[] {
    if (!fs.existsSync(paths.sinksDir)) return [];
    return fs
      .readdirSync(paths.sinksDir)
      .filter((name) => name.endsWith('.json'))
      .flatMap((name) => {
        try {
          const state = JSON.parse(fs.readFileSync(path.join(paths.sinksDir, name), 'utf8')) as SinkState;
          const runIds = Object.fromEntries(Object.entries(state.runs).map(([id, run]) => [id, run.runId]));
          return [{ uri: state.uri, runIds, versions: state.versions ?? {} }];
        } catch {
          return [];
        }
      });
  }

  private load(): SinkState {
    const file = this.stateFile;
    if (!fs.existsSync(file)) return { uri: this.client.uri, cursor: 0, runs: {}, experiments: {}, rejected: [] };
    try {
      return JSON.parse(fs.readFileSync(file, 'utf8')) as SinkState;
    } catch {
      throw new PipelineError(
        'STORE_INVALID',
        `${file} is damaged; remove it and run \`pipeline sync\` again (runs already in MLflow are found by their ${LOCAL_RUN_TAG} tag, not duplicated)`,
      );
    }
  }

  // Temp file + rename, so a crash leaves the old or the new state, never half.
  private save(state: SinkState): void {
    fs.mkdirSync(path.dirname(this.stateFile), { recursive: true });
    const temp = `${this.stateFile}.${process.pid}.tmp`;
    fs.writeFileSync(temp, JSON.stringify(state));
    fs.renameSync(temp, this.stateFile);
  }

  // Two processes replaying the same journal to the same server at once could both create a run. A lock left by
  // a process that no longer exists is taken over.
  private lock(): () => void {
    const lock = `${this.stateFile}.lock`;
    fs.mkdirSync(path.dirname(lock), { recursive: true });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = fs.openSync(lock, 'wx');
        fs.writeSync(fd, String(process.pid));
        fs.closeSync(fd);
        return () => fs.rmSync(lock, { force: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = Number(fs.readFileSync(lock, 'utf8'));
        if (isAlive(holder) && holder !== process.pid) {
          throw new PipelineError(
            'TRACKING_BUSY',
            `another pipeline process (pid ${holder}) is sending this workspace's journal to the same server; wait for it, or remove ${lock} if it is gone`,
          );
        }
        fs.rmSync(lock, { force: true });
      }
    }
    throw new PipelineError('TRACKING_BUSY', `could not take the lock ${lock}`);
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
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
