import { PipelineError } from '../errors.js';
import type { MlflowClient } from './mlflow-client.js';
import { MlflowError } from './mlflow-request.js';
import { countUnsynced, syncJournal } from './sync-journal.js';

export interface LiveSyncOptions {
  workspaceRoot: string;
  client: MlflowClient;
  /** Prints one line to the user (stderr). */
  warn(line: string): void;
  /** Delay before sending what was journaled, so an epoch's records go out together (default 300 ms). */
  delayMs?: number;
  /** After the server failed, how long to wait before trying again (default 10 s). */
  pauseMs?: number;
}

/** Sends journal records while a sweep runs, in the background; `close` makes a last attempt and reports. */
export interface LiveSync {
  /** New records were journaled: send them soon. */
  schedule(): void;
  /** Waits for the sending in flight, tries once more, and returns how many records are still unsent. */
  close(): Promise<{ unsent: number }>;
}

/**
 * Background sending that never fails the sweep: a server that is down (or goes down) is reported once, records
 * keep going to the journal, and sending resumes by itself when the server is back, or with `pipeline sync`.
 */
export function createLiveSync(options: LiveSyncOptions): LiveSync {
  return new BackgroundSync(options);
}

class BackgroundSync implements LiveSync {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private pausedUntil = 0;
  private stopped = false;
  private readonly warned = new Set<string>();

  constructor(private readonly options: LiveSyncOptions) {}

  schedule(): void {
    if (this.stopped || this.timer || Date.now() < this.pausedUntil) return;
    this.timer = setTimeout(() => this.run(), this.options.delayMs ?? 300);
  }

  async close(): Promise<{ unsent: number }> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.again = false;
    await this.running;
    if (!this.stopped) await this.attempt();
    return { unsent: countUnsynced(this.options.workspaceRoot, this.options.client.uri) };
  }

  private run(): void {
    this.timer = undefined;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.attempt().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.schedule();
      }
    });
  }

  private async attempt(): Promise<void> {
    try {
      const report = await syncJournal({ workspaceRoot: this.options.workspaceRoot, client: this.options.client });
      const first = report.rejected[0];
      if (first) this.warnOnce('rejected', `tracking: MLflow refused a record (kept in the journal): ${first.error}`);
    } catch (error) {
      this.pausedUntil = Date.now() + (this.options.pauseMs ?? 10_000);
      if (error instanceof MlflowError && error.kind === 'unavailable') {
        this.warnOnce('down', `tracking: ${error.message}`);
      } else if (error instanceof PipelineError) {
        // A lock held by another process, a damaged journal: retrying in this run cannot help.
        this.stopped = true;
        this.warnOnce('stopped', `tracking: ${error.message}`);
      } else {
        throw error;
      }
    }
  }

  private warnOnce(kind: string, line: string): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    this.options.warn(line);
  }
}
