import { PipelineError } from '../errors.js';
import type { SyncReport } from './journal-records.js';

export interface BackgroundSyncOptions {
  /** Sends everything not sent yet; throws TRACKING_UNAVAILABLE when the server cannot be reached. */
  send(): Promise<SyncReport>;
  /** Prints one line to the user (stderr). */
  warn(line: string): void;
  /** Delay before sending what was journaled, so an epoch's records go out together (default 300 ms). */
  delayMs?: number;
  /** After the server failed, how long to wait before trying again (default 10 s). */
  pauseMs?: number;
}

/**
 * Sending in the background while a sweep runs, around any `send` (it never knows where records go). It never
 * fails the sweep: a server that is down (or goes down, TRACKING_UNAVAILABLE) is reported once and tried again after
 * a pause; any other tracking error (another process sending, a damaged journal) is reported once and stops the
 * sending for this run, since retrying cannot help. Records keep going to the journal either way.
 */
export class BackgroundSync {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private pausedUntil = 0;
  private stopped = false;
  private readonly warned = new Set<string>();

  constructor(private readonly options: BackgroundSyncOptions) {}

  /** New records were journaled: send them soon (several calls within the delay make one send). */
  schedule(): void {
    if (this.stopped || this.timer || Date.now() < this.pausedUntil) return;
    this.timer = setTimeout(() => this.run(), this.options.delayMs ?? 300);
  }

  /** Waits for the send in flight, then tries once more unless sending was stopped. */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.again = false;
    await this.running;
    if (!this.stopped) await this.attempt();
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
      const report = await this.options.send();
      const first = report.rejected[0];
      if (first) this.warnOnce('rejected', `tracking: MLflow refused a record (kept in the journal): ${first.error}`);
    } catch (error) {
      this.pausedUntil = Date.now() + (this.options.pauseMs ?? 10_000);
      if (!(error instanceof PipelineError)) throw error;
      if (error.code === 'TRACKING_UNAVAILABLE') {
        this.warnOnce('down', `tracking: ${error.message}`);
      } else {
        this.stopped = true;
        this.warnOnce('stopped', `tracking: ${error.message}`);
      }
    }
  }

  private warnOnce(kind: string, line: string): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    this.options.warn(line);
  }
}
