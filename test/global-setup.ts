/**
 * Global setup of the integration suite: one redis-server (or the one `REDIS_URL` names) and one MLflow server
 * (when `.venv-mlflow` exists; under CI its absence fails the run) for the whole run. Tests read their addresses
 * with `inject('redisUrl')` / `inject('mlflowUri')` and keep apart by queue prefix and experiment name. A test that
 * stops or restarts a server starts a private one instead.
 */
import type { TestProject } from 'vitest/node';
import { mlflowUnavailable, startMlflowServer } from './helpers/mlflow-server.js';
import { startRedisServer } from './helpers/redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `redis://…` of the run's Redis. */
    redisUrl: string;
    /** URI of the run's MLflow server (still booting: `waitForMlflow` first); null when MLflow is not installed here. */
    mlflowUri: string | null;
    /** Why there is no MLflow server, or null when there is one. */
    mlflowSkip: string | null;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const mlflowSkip = mlflowUnavailable() ?? null;
  const [redis, mlflow] = await Promise.all([
    process.env.REDIS_URL ? undefined : startRedisServer(),
    // MLflow boots for seconds; it does so while the unit and model suites run, and its tests wait for it.
    mlflowSkip === null ? startMlflowServer({ waitUntilHealthy: false }) : undefined,
  ]);
  project.provide('redisUrl', redis?.url ?? process.env.REDIS_URL ?? '');
  project.provide('mlflowUri', mlflow?.uri ?? null);
  project.provide('mlflowSkip', mlflowSkip);
  return async () => {
    await Promise.all([redis?.stop(), mlflow?.stop()]);
  };
}
