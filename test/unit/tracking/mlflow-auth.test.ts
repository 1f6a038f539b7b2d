import { describe, expect, it } from 'vitest';
import { redactUri, resolveTrackingServer } from '../../../src/tracking/mlflow-auth.js';
import { MlflowClient } from '../../../src/tracking/mlflow-client.js';
import { parseModelUri } from '../../../src/tracking/model-download.js';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('resolveTrackingServer', () => {
  it("takes credentials as MLflow's clients do: URL user:password, then USERNAME/PASSWORD, then TOKEN", () => {
    const env = { MLFLOW_TRACKING_USERNAME: 'ann', MLFLOW_TRACKING_PASSWORD: 'pw', MLFLOW_TRACKING_TOKEN: 'tok' };
    expect(resolveTrackingServer('https://bob:s%40cret@mlflow.example.com/prefix/', env)).toEqual({
      uri: 'https://mlflow.example.com/prefix',
      authorization: basic('bob', 's@cret'),
      credentialsFrom: 'the user and password in the URL',
    });
    expect(resolveTrackingServer('http://h:5000', env).authorization).toBe(basic('ann', 'pw'));
    expect(resolveTrackingServer('http://h:5000', { MLFLOW_TRACKING_TOKEN: 'tok' })).toMatchObject({
      authorization: 'Bearer tok',
      credentialsFrom: 'MLFLOW_TRACKING_TOKEN',
    });
    expect(resolveTrackingServer('http://h:5000', {})).toEqual({
      uri: 'http://h:5000',
      authorization: undefined,
      credentialsFrom: undefined,
    });
  });

  it('a user without a password is a usage error; a bad URI is reported without its password', () => {
    expect(() => resolveTrackingServer('http://h', { MLFLOW_TRACKING_USERNAME: 'ann' })).toThrow(
      /MLFLOW_TRACKING_USERNAME is set but MLFLOW_TRACKING_PASSWORD is not/,
    );
    expect(() => resolveTrackingServer('ftp://ann:hunter2@h', {})).toThrow(/'ftp:\/\/ann:\*\*\*@h': only http\(s\)/);
    expect(redactUri('https://ann:hunter2@h/x')).toBe('https://ann:***@h/x');
    expect(redactUri('https://token@h/x')).toBe('https://***@h/x');
    expect(redactUri('http://h:5000')).toBe('http://h:5000');
  });

  it('sends the credentials in a header, never in the URL, and names their source when refused', async () => {
    const seen: { url: string; auth: string | null }[] = [];
    const refusing = ((url: string, init?: RequestInit) => {
      seen.push({ url, auth: new Headers(init?.headers).get('Authorization') });
      return Promise.resolve(new Response('Unauthorized', { status: 401 }));
    }) as unknown as typeof fetch;
    const client = new MlflowClient({ uri: 'http://ann:hunter2@h:5000', env: {}, fetch: refusing });
    const error = await client.setTag('r', 'k', 'v').catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'TRACKING_REJECTED',
      status: 401,
      auth: true,
      message:
        'MLflow at http://h:5000 answered 401 to POST /api/2.0/mlflow/runs/set-tag: it refused the credentials from the user and password in the URL',
    });
    expect(seen).toEqual([{ url: 'http://h:5000/api/2.0/mlflow/runs/set-tag', auth: basic('ann', 'hunter2') }]);
  });
});

describe('parseModelUri', () => {
  it('reads registered versions, latest, aliases and logged model ids', () => {
    expect(parseModelUri('models:/face-mask/3')).toEqual({ kind: 'version', name: 'face-mask', version: '3' });
    expect(parseModelUri('models:/face-mask/latest')).toEqual({
      kind: 'version',
      name: 'face-mask',
      version: 'latest',
    });
    expect(parseModelUri('models:/face-mask@champion')).toEqual({
      kind: 'alias',
      name: 'face-mask',
      alias: 'champion',
    });
    expect(parseModelUri('models:/m-0a1b2c')).toEqual({ kind: 'logged', modelId: 'm-0a1b2c' });
    expect(() => parseModelUri('runs:/abc/model')).toThrow(expect.objectContaining({ code: 'USAGE' }) as Error);
    expect(() => parseModelUri('models:/face-mask')).toThrow(/give models:\/NAME\/VERSION/);
  });
});
