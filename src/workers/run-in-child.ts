import { PipelineError, deserializeError, nodeContext } from '../errors.js';
import type { StageProgress, StageResult } from '../types.js';
import type { StageJob, StageMessage } from './stage-job.js';
import { acquireChild, releaseChild, type StageChild } from './stage-pool.js';

export interface ChildHooks {
  onLog(message: string): void;
  onProgress(update: StageProgress): void;
  signal: AbortSignal;
  /** Extra environment for the child, e.g. CUDA_VISIBLE_DEVICES to pin a GPU. */
  env?: Record<string, string>;
  /** Working folder of the child (default: this process's); relative paths in its params resolve against it. */
  cwd?: string;
}

type Outcome = { result: StageResult; backend: string };

/**
 * Runs a stage job in a child Node process (a warm one from the stage pool when it can); rejects with the stage's own
 * error, or STAGE_CRASHED if the process died. Only a process that finished its job cleanly goes back to the pool: one
 * that failed, was cancelled or crashed is not reused.
 */
export function runInChild(job: StageJob, hooks: ChildHooks): Promise<Outcome> {
  const context = nodeContext(job);
  const env = { ...process.env, ...hooks.env };
  const child = acquireChild({
    env,
    ...(hooks.cwd === undefined ? {} : { cwd: hooks.cwd }),
    key: JSON.stringify([hooks.env ?? {}, hooks.cwd ?? '', job.backend]),
  });
  return new Promise((resolve, reject) => {
    const proc = child.process;
    let stderr = '';
    const onStderr = (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    };
    let settled: Outcome | PipelineError | undefined;
    const finish = () => {
      hooks.signal.removeEventListener('abort', abort);
      proc.off('message', onMessage);
      proc.off('close', onClose);
      proc.stderr?.off('data', onStderr);
    };
    const abort = () => proc.kill('SIGTERM');
    const onMessage = (message: StageMessage) => {
      if (message.type === 'log') hooks.onLog(message.message);
      else if (message.type === 'progress') hooks.onProgress(message.update);
      else if (message.type === 'done') settled = { result: message.result, backend: message.backend };
      else settled = deserializeError(message.error, context);
      // A pooled process stays up after its job; it has answered, so the job is over.
      if (child.pooled && settled) settleNow(child, settled, hooks.signal.aborted, finish, resolve, reject);
    };
    const onClose = (code: number | null, signal: NodeJS.Signals | null) => {
      finish();
      if (settled instanceof PipelineError) reject(settled);
      else if (settled) resolve(settled);
      else if (hooks.signal.aborted) reject(new PipelineError('CANCELLED', `${context}: cancelled`));
      else {
        const how = signal ? `signal ${signal}` : `exit code ${code ?? '?'}`;
        const last = stderr.trim().split('\n').at(-1) ?? '';
        reject(new PipelineError('STAGE_CRASHED', `${context}: stage process died (${how})${last ? `: ${last}` : ''}`));
      }
    };
    proc.stderr?.on('data', onStderr);
    hooks.signal.addEventListener('abort', abort, { once: true });
    proc.on('message', onMessage);
    proc.on('close', onClose);
    if (hooks.signal.aborted) abort();
    proc.send(job);
  });
}

/** Ends a pooled job on its answer: a success returns the process to the pool, anything else retires it. */
function settleNow(
  child: StageChild,
  settled: Outcome | PipelineError,
  aborted: boolean,
  finish: () => void,
  resolve: (outcome: Outcome) => void,
  reject: (error: PipelineError) => void,
): void {
  finish();
  if (settled instanceof PipelineError || aborted) {
    // After an error the process's state (tensors, half-built models) is unknown; a fresh one is cheap enough.
    child.process.kill('SIGTERM');
    if (settled instanceof PipelineError) reject(settled);
    else resolve(settled);
    return;
  }
  releaseChild(child);
  resolve(settled);
}
