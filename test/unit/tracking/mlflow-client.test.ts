import { describe, expect, it } from 'vitest';
import { MlflowClient, type Batch } from '../../../src/tracking/mlflow-client.js';
import { normalizeTrackingUri } from '../../../src/tracking/mlflow-request.js';

/** A fetch that answers every request with `status` and keeps the JSON bodies it was sent. */
function recordingFetch(status = 200, answer = '{}') {
  const bodies: Record<string, unknown>[] = [];
  const fetch = ((_url: string, init?: RequestInit) => {
    bodies.push(JSON.parse(typeof init?.body === 'string' ? init.body : '{}') as Record<string, unknown>);
    return Promise.resolve(new Response(answer, { status }));
  }) as unknown as typeof globalThis.fetch;
  return { bodies, fetch };
}

describe('MlflowClient', () => {
  it('accepts only http(s) tracking URIs', () => {
    expect(normalizeTrackingUri('http://127.0.0.1:5000/')).toBe('http://127.0.0.1:5000');
    expect(() => normalizeTrackingUri('file:///tmp/mlruns')).toThrow(/only http\(s\):\/\/ MLflow servers/);
    expect(() => normalizeTrackingUri('127.0.0.1:5000x')).toThrow(expect.objectContaining({ code: 'USAGE' }) as Error);
  });

  it("retries 429 and 5xx; a 4xx is TRACKING_REJECTED at once, with MLflow's error_code and message", async () => {
    const statuses = [503, 429, 200];
    const calls: string[] = [];
    const flaky = ((url: string) => {
      calls.push(url);
      return Promise.resolve(new Response('{}', { status: statuses.shift() ?? 200 }));
    }) as unknown as typeof fetch;
    await new MlflowClient({ uri: 'http://mlflow.test', backoffMs: 1, fetch: flaky }).setTag('r1', 'k', 'v');
    expect(calls).toHaveLength(3);
    const body = JSON.stringify({ error_code: 'INVALID_PARAMETER_VALUE', message: 'Changing param values' });
    const refusing = recordingFetch(400, body);
    const strict = new MlflowClient({ uri: 'http://mlflow.test', backoffMs: 1, fetch: refusing.fetch });
    await expect(strict.setTag('r1', 'k', 'v')).rejects.toMatchObject({
      code: 'TRACKING_REJECTED',
      status: 400,
      errorCode: 'INVALID_PARAMETER_VALUE',
      message: expect.stringMatching(/answered 400 INVALID_PARAMETER_VALUE .*: Changing param values/) as string,
    });
    expect(refusing.bodies).toHaveLength(1);
  });

  it('a refused connection is TRACKING_UNAVAILABLE after the retries, and the message says what to do', async () => {
    let calls = 0;
    const refused = (() => {
      calls++;
      return Promise.reject(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }));
    }) as unknown as typeof fetch;
    const client = new MlflowClient({ uri: 'http://127.0.0.1:1', retries: 2, backoffMs: 1, fetch: refused });
    await expect(client.ensureExperiment('x')).rejects.toMatchObject({
      code: 'TRACKING_UNAVAILABLE',
      message: expect.stringMatching(/unreachable \(ECONNREFUSED\) — start it/) as string,
    });
    expect(calls).toBe(3);
  });

  it('a 5xx that persists is TRACKING_UNAVAILABLE once the retries are spent', async () => {
    const down = recordingFetch(503);
    const client = new MlflowClient({ uri: 'http://mlflow.test', retries: 1, backoffMs: 1, fetch: down.fetch });
    await expect(client.setTag('r1', 'k', 'v')).rejects.toMatchObject({ code: 'TRACKING_UNAVAILABLE', status: 503 });
    expect(down.bodies).toHaveLength(2);
  });

  it('derives the proxy path from mlflow-artifacts: URIs and refuses plain artifact locations', () => {
    const client = new MlflowClient({ uri: 'http://h:1' });
    expect(client.artifacts.proxyPath('mlflow-artifacts:/1/abc/artifacts')).toBe('1/abc/artifacts');
    expect(client.artifacts.proxyPath('mlflow-artifacts://h:1/1/abc/artifacts')).toBe('1/abc/artifacts');
    expect(() => client.artifacts.proxyPath('/srv/mlruns/1/abc/artifacts')).toThrow(
      expect.objectContaining({
        code: 'TRACKING_REJECTED',
        message: expect.stringMatching(/--serve-artifacts/) as string,
      }) as Error,
    );
  });
});

describe('MlflowClient.logBatch', () => {
  it("splits one batch into requests within MLflow's documented limits, each kind kept in order", async () => {
    const batch: Batch = {
      metrics: Array.from({ length: 2500 }, (_, i) => ({ key: 'm', value: i, step: i, timestamp: 0 })),
      params: Array.from({ length: 250 }, (_, i) => ({ key: `p${i}`, value: 'x'.repeat(7000) })),
      tags: Array.from({ length: 150 }, (_, i) => ({ key: `t${i}`, value: 'v' })),
    };
    const server = recordingFetch();
    await new MlflowClient({ uri: 'http://mlflow.test', fetch: server.fetch }).logBatch('run-1', batch);
    const sent = server.bodies as unknown as (Batch & { run_id: string })[];
    // Limits from https://mlflow.org/docs/latest/rest-api.html#log-batch: 1000 metrics, 100 params, 100 tags,
    // 1000 entities in all, 1 MB per request, param values up to 6000 characters.
    for (const body of sent) {
      expect(body.run_id).toBe('run-1');
      expect(body.metrics.length).toBeLessThanOrEqual(1000);
      expect(body.params.length).toBeLessThanOrEqual(100);
      expect(body.tags.length).toBeLessThanOrEqual(100);
      expect(body.metrics.length + body.params.length + body.tags.length).toBeLessThanOrEqual(1000);
      expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThan(1_000_000);
      for (const param of body.params) expect(param.value.length).toBeLessThanOrEqual(6000);
    }
    expect(sent.flatMap((body) => body.metrics).map((m) => m.step)).toEqual(batch.metrics.map((m) => m.step));
    expect(sent.flatMap((body) => body.params).map((p) => p.key)).toEqual(batch.params.map((p) => p.key));
    expect(sent.flatMap((body) => body.tags)).toEqual(batch.tags);
  });
});
