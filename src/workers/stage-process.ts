import { serializeError } from '../errors.js';
import { runStage } from './run-stage.js';
import type { StageJob, StageMessage } from './stage-job.js';
import { POOLED_CHILD_ENV } from './stage-pool.js';

/**
 * Child-process entry: receives a StageJob over IPC, runs it, reports progress and the result. A fresh process exits
 * after its job; a pooled one (stage-pool.ts) waits for the next, and exits when its parent goes away, when it is told
 * to stop between jobs, or after a job that it was told to cancel.
 * A crash here (segfault, OOM, uncaught error) ends only this process; the parent fails just this node.
 */
const pooled = process.env[POOLED_CHILD_ENV] === '1';
const send = (message: StageMessage) => new Promise<void>((resolve) => process.send?.(message, () => resolve()));

let current: AbortController | undefined;

process.on('SIGTERM', () => {
  if (current) current.abort();
  else process.exit(0);
});
// Ctrl-C in a terminal reaches the whole process group; the parent (a worker, `pipeline run`) decides what stops and
// tells this process with SIGTERM, so a worker's graceful stop can hand the job back instead of losing an attempt.
process.on('SIGINT', () => undefined);
// The parent died (e.g. a worker killed with SIGKILL): nobody will commit this output, so stop working.
process.on('disconnect', () => process.exit(current ? 1 : 0));

async function serve(job: StageJob): Promise<void> {
  const controller = new AbortController();
  current = controller;
  try {
    const { result, backend } = await runStage(job, {
      signal: controller.signal,
      log: (message) => void send({ type: 'log', message }),
      progress: (update) => void send({ type: 'progress', update }),
    });
    await send({ type: 'done', result, backend });
  } catch (error) {
    await send({ type: 'error', error: serializeError(error) });
  } finally {
    current = undefined;
  }
  if (!pooled || controller.signal.aborted) process.disconnect();
}

if (pooled) process.on('message', (job: StageJob) => void serve(job));
else process.once('message', (job: StageJob) => void serve(job));
