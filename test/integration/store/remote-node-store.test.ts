import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { ArtifactProxyClient } from '../../../src/store/artifact-proxy-client.js';
import { dataFolder, fingerprintFolder } from '../../../src/store/data-folder.js';
import { RemoteNodeStore } from '../../../src/store/remote-node-store.js';
import { WorkspaceStore } from '../../../src/store/workspace-store.js';
import { waitForMlflow } from '../../helpers/mlflow-server.js';
import { freePort } from '../../helpers/redis-server.js';
import { tempDir, writeFiles } from '../../helpers/temp-project.js';

const uri = inject('mlflowUri');
const skip = inject('mlflowSkip');
if (skip) console.warn(`node store tests skipped: ${skip}`);

/** A workspace holding one complete node `key` with a few files. */
async function workspaceWithNode(key: string): Promise<WorkspaceStore> {
  const store = new WorkspaceStore(tempDir());
  const build = await store.begin(key);
  writeFiles(build, {
    'model/weights.bin': 'w'.repeat(5000),
    'metrics.json': '{"acc":0.5}',
    'name with space.txt': 'x',
  });
  const now = new Date().toISOString();
  const record = { cacheKey: key, stage: 'train', kind: 'train', params: {}, metrics: { acc: 0.5 }, summary: {} };
  await store.commit(build, { ...record, startedAt: now, finishedAt: now, durationMs: 1 });
  return store;
}

const filesOf = (dir: string, names: string[]) => names.map((name) => readFileSync(path.join(dir, name), 'utf8'));

describe.skipIf(uri === null)("the node store in MLflow's artifact proxy", () => {
  let client: ArtifactProxyClient;
  let storeId: string;
  beforeAll(async () => {
    await waitForMlflow(uri ?? '');
    client = new ArtifactProxyClient({ uri: uri ?? '', retries: 1 });
    storeId = `test-${process.pid}-${Date.now().toString(36)}`;
    await client.checkServing();
  });

  it('carries a node from one workspace to another, every file verified, under the attempt the pusher named', async () => {
    const remote = new RemoteNodeStore(client, storeId);
    const source = await workspaceWithNode('k1');
    const attempt = await remote.pushNode(source, 'k1');
    const target = new WorkspaceStore(tempDir());
    expect(await remote.readCommitted('k1')).toBeUndefined();
    await remote.markCommitted('k1', attempt);
    expect(await remote.readCommitted('k1')).toBe(attempt);
    await remote.pullNode(target, 'k1', attempt);
    const names = ['model/weights.bin', 'metrics.json', 'name with space.txt', 'result.json'];
    expect(filesOf(target.nodeDir('k1'), names)).toEqual(filesOf(source.nodeDir('k1'), names));
    expect((await target.readRecord('k1'))?.metrics).toEqual({ acc: 0.5 });
  });

  it('refuses a pushed file whose bytes changed, and an attempt without a manifest; the workspace stays without it', async () => {
    const remote = new RemoteNodeStore(client, storeId);
    const attempt = await remote.pushNode(await workspaceWithNode('k2'), 'k2');
    await client.put(`pipeline/${storeId}/nodes/k2/${attempt}/metrics.json`, Buffer.from('{"acc":0.9}'));
    const target = new WorkspaceStore(tempDir());
    const tampered = await remote.pullNode(target, 'k2', attempt).catch((error: unknown) => error);
    expect(tampered).toMatchObject({ code: 'STORE_INVALID' });
    expect((tampered as Error).message).toMatch(
      /metrics\.json: downloaded 11 bytes with sha256 \w+…, the manifest lists 11 bytes/,
    );
    expect(target.has('k2')).toBe(false);
    const missing = await remote.pullNode(target, 'k2', 'no-such-attempt').catch((error: unknown) => error);
    expect(missing).toMatchObject({ code: 'NOT_FOUND' });
    expect((missing as Error).message).toMatch(/nodes\/k2\/no-such-attempt: no complete copy in the node store$/);
  });

  it('uploads a data folder once under its fingerprint and downloads it into another workspace', async () => {
    const remote = new RemoteNodeStore(client, storeId);
    const data = writeFiles(tempDir(), { 'with_mask/1.jpg': 'a', 'without_mask/2.jpg': 'bb' });
    const fingerprint = fingerprintFolder(data);
    await remote.pushData(data, fingerprint);
    const target = new WorkspaceStore(tempDir());
    const pulled = await remote.pullData(target, fingerprint);
    expect(pulled).toBe(dataFolder(target, fingerprint));
    expect(fingerprintFolder(pulled)).toBe(fingerprint);
    expect(existsSync(path.join(pulled, 'manifest.json'))).toBe(false);
  });

  it('says in one line when the server is not there', async () => {
    const port = await freePort();
    const down = new ArtifactProxyClient({ uri: `http://127.0.0.1:${port}`, retries: 0 });
    await expect(down.get('pipeline/x')).rejects.toMatchObject({
      code: 'TRACKING_UNAVAILABLE',
      message: `node store at http://127.0.0.1:${port} is unreachable (ECONNREFUSED) to GET pipeline/x`,
    });
  });
});
