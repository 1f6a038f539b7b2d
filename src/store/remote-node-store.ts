import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError } from '../errors.js';
import type { ArtifactProxyClient } from './artifact-proxy-client.js';
import { dataFolder } from './data-folder.js';
import { buildManifest, parseManifest, verifyFile } from './file-manifest.js';
import type { WorkspaceStore } from './workspace-store.js';

const MANIFEST = 'manifest.json';
const TRANSFERS_AT_ONCE = 4;

/**
 * Node outputs and data folders kept in an MLflow server's artifact proxy, for workers that do not share a disk.
 * Layout under `pipeline/<storeId>/`:
 * - `nodes/<cacheKey>/<attempt>/…`: one pushed build of a node; its `manifest.json` (size and sha256 of every file)
 *   is written last, so an attempt without one is incomplete and never read.
 * - `nodes/<cacheKey>/committed.json`: `{attempt}`, the build a completed queue job named.
 * - `data/<fingerprint>/…` + `manifest.json`: a data folder, uploaded once.
 * Everything pulled is checked against its manifest before it enters a workspace.
 */
export class RemoteNodeStore {
  constructor(
    readonly client: ArtifactProxyClient,
    readonly storeId: string,
  ) {}

  /** Where this store lives, for messages. */
  get where(): string {
    return `${this.client.uri} (artifacts pipeline/${this.storeId}/)`;
  }

  /** Uploads a complete node from the workspace as a new attempt and returns the attempt's name. */
  async pushNode(store: WorkspaceStore, cacheKey: string): Promise<string> {
    const attempt = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    await this.pushFolder(store.nodeDir(cacheKey), `nodes/${cacheKey}/${attempt}`);
    return attempt;
  }

  /**
   * Downloads one attempt of a node into the workspace's `nodes/<cacheKey>/`, verified file by file. A node the
   * workspace has already is kept unless `replace` (a forced rebuild).
   */
  async pullNode(store: WorkspaceStore, cacheKey: string, attempt: string, replace = false): Promise<void> {
    if (!replace && store.has(cacheKey)) return;
    const temp = tempFolder(store, `pull-${cacheKey.slice(0, 16)}`);
    try {
      await this.pullFolder(`nodes/${cacheKey}/${attempt}`, temp);
      await installFolder(temp, store.nodeDir(cacheKey), replace);
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  }

  /** The attempt a completed job named for this node, or undefined if none is recorded. */
  async readCommitted(cacheKey: string): Promise<string | undefined> {
    const bytes = await this.client.get(this.remote(`nodes/${cacheKey}/committed.json`));
    if (!bytes) return undefined;
    const { attempt } = JSON.parse(bytes.toString('utf8')) as { attempt?: unknown };
    return typeof attempt === 'string' ? attempt : undefined;
  }

  /** Records `attempt` as the node's build, for runs that find no completed job to read it from. */
  async markCommitted(cacheKey: string, attempt: string): Promise<void> {
    const text = `${JSON.stringify({ attempt })}\n`;
    await this.client.put(this.remote(`nodes/${cacheKey}/committed.json`), Buffer.from(text));
  }

  /** Uploads a data folder under its fingerprint unless a complete copy is there already. */
  async pushData(localDir: string, fingerprint: string): Promise<void> {
    if (await this.client.get(this.remote(`data/${fingerprint}/${MANIFEST}`))) return;
    await this.pushFolder(localDir, `data/${fingerprint}`);
  }

  /** Downloads a data folder into the workspace's `data/<fingerprint>/` unless it is there; returns its path. */
  async pullData(store: WorkspaceStore, fingerprint: string): Promise<string> {
    const target = dataFolder(store, fingerprint);
    if (existsSync(target)) return target;
    const temp = tempFolder(store, `data-${fingerprint.slice(0, 16)}`);
    try {
      await this.pullFolder(`data/${fingerprint}`, temp);
      await installFolder(temp, target, false);
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
    return target;
  }

  private remote(relative: string): string {
    return `pipeline/${this.storeId}/${relative}`;
  }

  private async pushFolder(dir: string, relative: string): Promise<void> {
    const manifest = await buildManifest(dir);
    await forEachLimited(Object.keys(manifest.files), async (name) => {
      await this.client.put(this.remote(`${relative}/${name}`), await readFile(path.join(dir, ...name.split('/'))));
    });
    // Last: its presence is what makes the folder complete for readers.
    await this.client.put(this.remote(`${relative}/${MANIFEST}`), Buffer.from(`${JSON.stringify(manifest)}\n`));
  }

  private async pullFolder(relative: string, dir: string): Promise<void> {
    const where = `${this.client.uri} pipeline/${this.storeId}/${relative}`;
    const text = await this.client.get(this.remote(`${relative}/${MANIFEST}`));
    if (!text) throw new PipelineError('NOT_FOUND', `${where}: no complete copy in the node store`);
    const manifest = parseManifest(text.toString('utf8'), where);
    await forEachLimited(Object.keys(manifest.files), async (name) => {
      const bytes = await this.client.get(this.remote(`${relative}/${name}`));
      if (!bytes) throw new PipelineError('STORE_INVALID', `${where}/${name}: listed in the manifest but missing`);
      verifyFile(manifest, name, bytes, where);
      const file = path.join(dir, ...name.split('/'));
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, bytes);
    });
  }
}

function tempFolder(store: WorkspaceStore, name: string): string {
  return path.join(store.root, 'tmp', `${name}-${randomBytes(4).toString('hex')}`);
}

/** Moves a finished download into place; another process that installed it first wins unless `replace`. */
async function installFolder(temp: string, target: string, replace: boolean): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true });
  if (replace && existsSync(target)) {
    const old = `${temp}.replaced`;
    await rename(target, old);
    await rename(temp, target);
    await rm(old, { recursive: true, force: true });
    return;
  }
  await rename(temp, target).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
  });
}

async function forEachLimited<T>(items: T[], run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (next < items.length && !failed) {
      const item = items[next++] as T;
      await run(item).catch((error: unknown) => {
        failed = true;
        throw error;
      });
    }
  };
  // Every lane settles before the first error is thrown, so no write is still under way when the caller cleans up.
  const lanes = await Promise.allSettled(Array.from({ length: Math.min(TRANSFERS_AT_ONCE, items.length) }, lane));
  const rejected = lanes.find((lane): lane is PromiseRejectedResult => lane.status === 'rejected');
  if (rejected) throw rejected.reason;
}
