import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Set to `0` to start a fresh stage process for every node instead of reusing warm ones (the behaviour before the pool;
 * useful to measure it, or to rule the pool out when chasing a problem).
 */
export const STAGE_POOL_ENV = 'PIPELINE_STAGE_POOL';
/** Set in a pooled stage process: it serves one job after another instead of exiting after the first. */
export const POOLED_CHILD_ENV = 'PIPELINE_STAGE_POOLED';

/** Warm processes kept per kind of process; more would only hold memory (each has tfjs and TF loaded). */
const MAX_IDLE_PER_KEY = 4;
/** A warm process nobody asked for in this long exits, so a long-lived worker does not hold memory for nothing. */
const IDLE_TIMEOUT_MS = 60_000;

const entry = new URL(`./stage-process.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);

/** A stage process: fresh for one job, or pooled and reused while it stays healthy. */
export interface StageChild {
  process: ChildProcess;
  pooled: boolean;
  /** Identifies processes that are interchangeable: same environment, working folder and backend. */
  key: string;
}

interface IdleChild {
  child: StageChild;
  timer: NodeJS.Timeout;
}

const idle = new Map<string, IdleChild[]>();

/** Whether stage processes are reused between nodes (default yes; `PIPELINE_STAGE_POOL=0` turns it off). */
export function poolEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[STAGE_POOL_ENV] !== '0';
}

/**
 * A stage process for a job: a warm one with the same key if there is one, else a new one. Reused processes have
 * already loaded Node, tsx and tfjs (about 1 s of CPU and several seconds of wall time per node on a 2-core machine).
 */
export function acquireChild(options: { env: NodeJS.ProcessEnv; cwd?: string; key: string }): StageChild {
  const pooled = poolEnabled(options.env);
  if (pooled) {
    const waiting = idle.get(options.key) ?? [];
    for (let next = waiting.pop(); next; next = waiting.pop()) {
      clearTimeout(next.timer);
      const proc = next.child.process;
      if (proc.connected && proc.exitCode === null && proc.signalCode === null) {
        setHeld(proc, true);
        return next.child;
      }
    }
  }
  // Under the test runner the sources are TypeScript; the child needs the same loader.
  const execArgv = entry.pathname.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const proc = fork(fileURLToPath(entry), [], {
    execArgv,
    env: pooled ? { ...options.env, [POOLED_CHILD_ENV]: '1' } : options.env,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  return { process: proc, pooled, key: options.key };
}

/**
 * Gives a process back after a job that succeeded. It waits, without keeping this process alive, for the next job
 * with the same key; a process that has exited, or one too many, is dropped.
 */
export function releaseChild(child: StageChild): void {
  const proc = child.process;
  if (!child.pooled || !proc.connected || proc.exitCode !== null || proc.signalCode !== null) return;
  const waiting = idle.get(child.key) ?? [];
  if (waiting.length >= MAX_IDLE_PER_KEY) {
    proc.kill('SIGTERM');
    return;
  }
  const entry: IdleChild = {
    child,
    timer: setTimeout(() => {
      idle.set(
        child.key,
        (idle.get(child.key) ?? []).filter((other) => other !== entry),
      );
      proc.kill('SIGTERM');
    }, IDLE_TIMEOUT_MS).unref(),
  };
  waiting.push(entry);
  idle.set(child.key, waiting);
  setHeld(proc, false);
}

/** Stops every warm process (tests; a worker shutting down). */
export function drainStagePool(): void {
  for (const waiting of idle.values()) {
    for (const { child, timer } of waiting) {
      clearTimeout(timer);
      child.process.kill('SIGTERM');
    }
  }
  idle.clear();
}

/** An idle child must not keep the parent's event loop alive; a busy one must. */
function setHeld(proc: ChildProcess, held: boolean): void {
  const channel = proc.channel as { ref(): void; unref(): void } | undefined;
  const stderr = proc.stderr as (NodeJS.ReadableStream & { ref?(): void; unref?(): void }) | null;
  if (held) {
    proc.ref();
    channel?.ref();
    stderr?.ref?.();
  } else {
    proc.unref();
    channel?.unref();
    stderr?.unref?.();
  }
}
