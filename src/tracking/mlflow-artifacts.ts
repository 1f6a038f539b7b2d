import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MlflowError, type MlflowTransport } from './mlflow-request.js';

const ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts';

/** A file or folder in an artifact store, relative to the root that was listed. */
export interface ArtifactEntry {
  path: string;
  isDir: boolean;
  size?: number;
}

/**
 * Files through the server's artifact proxy (`mlflow server --serve-artifacts`): a run's artifacts and a logged
 * model's files both live under a `mlflow-artifacts:` root, which this client reads and writes by path.
 */
export class MlflowArtifacts {
  constructor(private readonly http: MlflowTransport) {}

  /** Uploads one file to `<root>/<artifactPath>`; an upload to the same path overwrites. */
  async upload(rootUri: string, artifactPath: string, data: Buffer): Promise<void> {
    const route = `${ARTIFACTS}/${this.proxyPath(rootUri)}/${encodePath(artifactPath)}`;
    await this.http.request('PUT', route, data, { timeoutMs: 300_000 });
  }

  /** Downloads one file. */
  async download(rootUri: string, artifactPath: string): Promise<Buffer> {
    const route = `${ARTIFACTS}/${this.proxyPath(rootUri)}/${encodePath(artifactPath)}`;
    return (await this.http.request('GET', route, undefined, { raw: true, timeoutMs: 300_000 })) as Buffer;
  }

  /** The files and folders directly under `<root>/<folder>`, with paths relative to the root. */
  async list(rootUri: string, folder = ''): Promise<ArtifactEntry[]> {
    const root = this.proxyPath(rootUri);
    const query = new URLSearchParams({ path: folder ? `${root}/${folder}` : root });
    const answer = (await this.http.request('GET', `${ARTIFACTS}?${query.toString()}`)) as {
      files?: { path: string; is_dir: boolean; file_size?: number | string }[];
    };
    return (answer.files ?? []).map((file) => ({
      path: folder ? `${folder}/${file.path}` : file.path,
      isDir: file.is_dir,
      ...(file.file_size === undefined ? {} : { size: Number(file.file_size) }),
    }));
  }

  /** Copies every file under `rootUri` into `dest` (created as needed); returns their relative paths. */
  async downloadTree(rootUri: string, dest: string, folder = ''): Promise<string[]> {
    const copied: string[] = [];
    for (const entry of await this.list(rootUri, folder)) {
      if (entry.isDir) {
        copied.push(...(await this.downloadTree(rootUri, dest, entry.path)));
        continue;
      }
      const target = path.resolve(dest, entry.path);
      if (!target.startsWith(path.resolve(dest) + path.sep)) {
        throw new MlflowError('TRACKING_REJECTED', `MLflow at ${this.http.uri} listed an unsafe path '${entry.path}'`);
      }
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, await this.download(rootUri, entry.path));
      copied.push(entry.path);
    }
    return copied;
  }

  /**
   * The proxy route of an artifact root: `mlflow-artifacts:/1/<run>/artifacts` (or with a host) becomes
   * `1/<run>/artifacts`. Any other scheme means the server hands artifact storage to its clients, which this
   * client cannot write to.
   */
  proxyPath(rootUri: string): string {
    const match = /^mlflow-artifacts:(?:\/\/[^/]*)?\/?(.*)$/.exec(rootUri);
    if (!match?.[1]) {
      throw new MlflowError(
        'TRACKING_REJECTED',
        `MLflow at ${this.http.uri} does not proxy artifacts (the artifact location is ${rootUri}): start it with --serve-artifacts (the default since MLflow 2), or use an experiment created with it`,
      );
    }
    return match[1].replace(/\/+$/, '');
  }
}

function encodePath(artifactPath: string): string {
  return artifactPath.split('/').map(encodeURIComponent).join('/');
}
