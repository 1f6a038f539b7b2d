import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { selectBackend } from '../ml/backend.js';
import { loadStage } from '../stages/registry.js';
import type { StageContext } from '../stages/stage-context.js';
import type { StageProgress, StageResult } from '../types.js';
import type { StageJob } from './stage-job.js';

const TENSOR_STAGES = new Set(['synthesize', 'train', 'evaluate']);

export interface RunStageHooks {
  log(message: string): void;
  progress(update: StageProgress): void;
  signal: AbortSignal;
}

/** Runs one stage in this process; its log lines also go to `log.txt` beside its outputs. */
export async function runStage(job: StageJob, hooks: RunStageHooks): Promise<{ result: StageResult; backend: string }> {
  const backend = TENSOR_STAGES.has(job.kind) ? await selectBackend(job.backend) : 'none';
  const logFile = path.join(job.outDir, 'log.txt');
  let pending: Promise<void> = Promise.resolve();
  const ctx: StageContext = {
    outDir: job.outDir,
    checkpointDir: job.checkpointDir,
    inputs: job.inputs,
    backend,
    signal: hooks.signal,
    log: (message) => {
      hooks.log(message);
      pending = pending.then(() => appendFile(logFile, `${message}\n`));
    },
    progress: (update) => hooks.progress(update),
  };
  if (backend !== 'none') ctx.log(`backend: ${backend}`);
  const run = await loadStage(job.kind);
  const result = await run(ctx, job.params as never);
  await pending;
  return { result, backend };
}
