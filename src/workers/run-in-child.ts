import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PipelineError, deserializeError, nodeContext } from '../errors.js';
import type { StageProgress, StageResult } from '../types.js';
import type { StageJob, StageMessage } from './stage-job.js';

export interface ChildHooks {
  onLog(message: string): void;
  onProgress(update: StageProgress): void;
  signal: AbortSignal;
  /** Extra environment for the child, e.g. CUDA_VISIBLE_DEVICES to pin a GPU. */
  env?: Record<string, string>;
  /** Working folder of the child (default: this process's); relative paths in its params resolve against it. */
  cwd?: string;
}

const entry = new URL(`./stage-process.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);

/** Runs a stage job in a child Node process; rejects with the stage's own error, or STAGE_CRASHED if it died. */
export function runInChild(job: StageJob, hooks: ChildHooks): Promise<{ result: StageResult; backend: string }> {
  const context = nodeContext(job);
  return new Promise((resolve, reject) => {
    // Under the test runner the sources are TypeScript; the child needs the same loader.
    const execArgv = entry.pathname.endsWith('.ts') ? ['--import', 'tsx'] : [];
    const child = fork(fileURLToPath(entry), [], {
      execArgv,
      env: { ...process.env, ...hooks.env },
      ...(hooks.cwd === undefined ? {} : { cwd: hooks.cwd }),
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let settled: { result: StageResult; backend: string } | PipelineError | undefined;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const abort = () => child.kill('SIGTERM');
    hooks.signal.addEventListener('abort', abort, { once: true });
    child.on('message', (message: StageMessage) => {
      if (message.type === 'log') hooks.onLog(message.message);
      else if (message.type === 'progress') hooks.onProgress(message.update);
      else if (message.type === 'done') settled = { result: message.result, backend: message.backend };
      else settled = deserializeError(message.error, context);
    });
    child.on('close', (code, signal) => {
      hooks.signal.removeEventListener('abort', abort);
      if (settled instanceof PipelineError) reject(settled);
      else if (settled) resolve(settled);
      else if (hooks.signal.aborted) reject(new PipelineError('CANCELLED', `${context}: cancelled`));
      else {
        const how = signal ? `signal ${signal}` : `exit code ${code ?? '?'}`;
        const last = stderr.trim().split('\n').at(-1) ?? '';
        reject(new PipelineError('STAGE_CRASHED', `${context}: stage process died (${how})${last ? `: ${last}` : ''}`));
      }
    });
    child.send(job);
  });
}
