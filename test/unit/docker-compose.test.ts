import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MLFLOW_VENV, mlflowUnavailable } from '../helpers/mlflow-server.js';
import { ROOT } from '../helpers/temp-project.js';

interface Service {
  image?: string;
  command?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  stop_grace_period?: string;
}
const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const { redis, mlflow } = compose.services as { redis: Service; mlflow: Service };

describe('docker-compose.yml', () => {
  it('keeps Redis unpublished and behind a password every client is given', () => {
    expect(redis.ports).toBeUndefined();
    expect(redis.command).toEqual(expect.arrayContaining(['--requirepass', '--maxmemory-policy', 'noeviction']));
    expect(redis.command?.[redis.command.indexOf('--requirepass') + 1]).toMatch(/^\$\{REDIS_PASSWORD:\?/);
    for (const name of ['worker-cpu', 'worker-gpu', 'cli']) {
      expect(compose.services[name]?.environment?.REDIS_URL, name).toMatch(
        /^redis:\/\/:\$\{REDIS_PASSWORD:\?[^}]*\}@redis:6379$/,
      );
      expect(compose.services[name]?.environment?.PIPELINE_WORKSPACE, name).toBe('/workspace');
    }
  });

  it('gives workers more time to stop than their --stop-grace plus the hand-back, so Docker never kills one mid-job', () => {
    for (const name of ['worker-cpu', 'worker-gpu']) {
      const service = compose.services[name];
      const command = service?.command ?? [];
      const flag = command.indexOf('--stop-grace');
      const grace = flag < 0 ? 20 : Number(command[flag + 1]);
      const [, amount = 'NaN', unit] = /^(\d+)(s|m)$/.exec(service?.stop_grace_period ?? '') ?? [];
      expect(Number(amount) * (unit === 'm' ? 60 : 1), name).toBeGreaterThanOrEqual(grace + 5);
    }
  });

  it('runs the MLflow version the tests use, serving artifacts, published on loopback only', () => {
    const skip = mlflowUnavailable();
    if (skip) return console.warn(`MLflow version check skipped: ${skip}`);
    const site = readdirSync(path.join(MLFLOW_VENV, 'lib')).map((dir) =>
      path.join(MLFLOW_VENV, 'lib', dir, 'site-packages'),
    );
    const info = site.flatMap((dir) => readdirSync(dir)).find((name) => /^mlflow-[\d.]+\.dist-info$/.test(name));
    const version = /^mlflow-([\d.]+)\.dist-info$/.exec(info ?? '')?.[1];
    expect(version).toBeDefined();
    expect(mlflow.image).toBe(`ghcr.io/mlflow/mlflow:v${version}`);
    expect(mlflow.command).toEqual(expect.arrayContaining(['--serve-artifacts']));
    expect(mlflow.ports).toEqual(['127.0.0.1:5000:5000']);
  });
});
