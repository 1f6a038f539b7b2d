import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { STAGES } from '../stages/catalog.js';
import { loadStage } from '../stages/registry.js';
import { cancellationCheck, type StageContext } from '../stages/stage-context.js';
import type { StageProgress, StageResult } from '../types.js';
import type { StageJob } from './stage-job.js';
import { loadStageFixture } from './stage-fixtures.js';

export interface RunStageHooks {
  log(message: string): void;
  progress(update: StageProgress): void;
  signal: AbortSignal;
}

/** Runs one stage in this process; its log lines also go to `log.txt` beside its outputs. */
export async function runStage(job: StageJob, hooks: RunStageHooks): Promise<{ result: StageResult; backend: string }> {
  const fixture = await loadStageFixture(job);
  const backend = !fixture && STAGES[job.kind].tensors ? await selectTensorBackend(job) : 'none';
  // Fixtures of tensor stages are tracked too, so the pool's clean-up is tested on them.
  const release = STAGES[job.kind].tensors ? await trackTensors() : undefined;
  const logFile = path.join(job.outDir, 'log.txt');
  let pending: Promise<void> = Promise.resolve();
  const ctx: StageContext = {
    outDir: job.outDir,
    checkpointDir: job.checkpointDir,
    inputs: job.inputs,
    ...(job.sourceData === undefined ? {} : { sourceData: job.sourceData }),
    backend,
    signal: hooks.signal,
    throwIfCancelled: cancellationCheck(hooks.signal, job.kind),
    log: (message) => {
      hooks.log(message);
      pending = pending.then(() => appendFile(logFile, `${message}\n`));
    },
    progress: (update) => hooks.progress(update),
  };
  if (backend !== 'none') ctx.log(`backend: ${backend}`);
  const run = fixture ?? (await loadStage(job.kind));
  // Stages may reseed Math.random (train does, for reproducible weights); the next stage in this process must not inherit it.
  const random = Math.random;
  try {
    const result = await run(ctx, job.params as never);
    await pending;
    return { result, backend };
  } finally {
    Math.random = random;
    release?.();
  }
}

async function trackTensors(): Promise<() => void> {
  const { trackStageTensors } = await import('../ml/backend.js');
  return trackStageTensors();
}

// Loaded on demand: tfjs takes about 0.2 s to load, which stages without tensors (ingest, split) skip.
async function selectTensorBackend(job: StageJob): Promise<string> {
  const { selectBackend } = await import('../ml/backend.js');
  return selectBackend(job.backend);
}
