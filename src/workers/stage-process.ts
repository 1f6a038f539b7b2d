import { serializeError } from '../errors.js';
import { runStage } from './run-stage.js';
import type { StageJob, StageMessage } from './stage-job.js';

/**
 * Child-process entry: receives one StageJob over IPC, runs it, reports progress and the result, and exits.
 * A crash here (segfault, OOM, uncaught error) ends only this process; the parent fails just this node.
 */
const controller = new AbortController();
const send = (message: StageMessage) => new Promise<void>((resolve) => process.send?.(message, () => resolve()));

let finished = false;

process.on('SIGTERM', () => controller.abort());
// The parent died (e.g. a worker killed with SIGKILL): nobody will commit this output, so stop working.
process.on('disconnect', () => {
  if (!finished) process.exit(1);
});
process.once('message', (job: StageJob) => {
  runStage(job, {
    signal: controller.signal,
    log: (message) => void send({ type: 'log', message }),
    progress: (update) => void send({ type: 'progress', update }),
  })
    .then(({ result, backend }) => send({ type: 'done', result, backend }))
    .catch((error: unknown) => send({ type: 'error', error: serializeError(error) }))
    .finally(() => {
      finished = true;
      process.disconnect();
    });
});
