import os from 'node:os';

/** Set to `0` to leave TensorFlow's thread pools at their defaults (each process sized to every core). */
export const THREAD_BUDGET_ENV = 'PIPELINE_THREAD_BUDGET';

/**
 * Environment that sizes TensorFlow's thread pools for one of `running` stage processes sharing this machine:
 * `cores / running` intra-op threads and one inter-op thread. With TF's defaults every process sizes its pools to all
 * cores, so two trials on two cores each run 2 + 2 threads and spend time preempting each other. Empty when the user
 * set either variable (theirs wins) or turned the budget off.
 */
export function stageThreadEnv(
  running: number,
  env: NodeJS.ProcessEnv = process.env,
  cores = os.availableParallelism(),
): Record<string, string> {
  if (env[THREAD_BUDGET_ENV] === '0') return {};
  if (env.TF_NUM_INTRAOP_THREADS !== undefined || env.TF_NUM_INTEROP_THREADS !== undefined) return {};
  const intra = Math.max(1, Math.floor(cores / Math.max(1, running)));
  return { TF_NUM_INTRAOP_THREADS: String(intra), TF_NUM_INTEROP_THREADS: '1' };
}
