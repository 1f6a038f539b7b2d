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
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let pausedUntil = 0;
  let stopped = false;
  const warned = new Set<string>();
  const warnOnce = (kind: string, line: string) => {
    if (warned.has(kind)) return;
    warned.add(kind);
    options.warn(line);
  };

  const attempt = async () => {
    try {
      const report = await syncJournal({ workspaceRoot: options.workspaceRoot, client: options.client });
      const first = report.rejected[0];
      if (first) warnOnce('rejected', `tracking: MLflow refused a record (kept in the journal): ${first.error}`);
    } catch (error) {
      pausedUntil = Date.now() + (options.pauseMs ?? 10_000);
      if (error instanceof MlflowError && error.kind === 'unavailable') {
        warnOnce('down', `tracking: ${error.message}`);
      } else if (error instanceof PipelineError) {
        stopped = true;
        warnOnce('stopped', `tracking: ${error.message}`);
      } else {
        throw error;
      }
    }
  };
  const run = () => {
    timer = undefined;
    if (running) {
      again = true;
      return;
    }
    running = attempt().finally(() => {
      running = undefined;
      if (again) {
        again = false;
        schedule();
      }
    });
  };
  const schedule = () => {
    if (stopped || timer || Date.now() < pausedUntil) return;
    timer = setTimeout(run, options.delayMs ?? 300);
  };

  return {
    schedule,
    async close() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      again = false;
      await running;
      if (!stopped) await attempt();
      return { unsent: countUnsynced(options.workspaceRoot, options.client.uri) };
    },
  };
}
