import { PipelineError } from '../errors.js';
import { MlflowError, MlflowTransport } from '../tracking/mlflow-request.js';

const ROUTE = '/api/2.0/mlflow-artifacts/artifacts';

/** How to reach the artifact proxy: the MLflow server's URL, started with `--serve-artifacts`. */
export interface ArtifactProxyOptions {
  uri: string;
  /** Per-request time limit in ms (default 10 minutes: node files can be large). */
  timeoutMs?: number;
  /** Extra attempts after a 5xx, a timeout or a refused connection (default 4). */
  retries?: number;
}

/**
 * Files under the artifact root of an MLflow tracking server that proxies artifacts (`mlflow server
 * --serve-artifacts`, backed by whatever store the deployment gives it: S3, GCS, Azure, a local folder).
 * Paths are `/`-separated and relative to that root.
 */
export class ArtifactProxyClient {
  /** The server's address, without credentials. */
  readonly uri: string;
  private readonly transport: MlflowTransport;

  constructor(options: ArtifactProxyOptions) {
    // The tracking client's transport: the same retries, and the same credentials (MLflow's environment variables).
    this.transport = new MlflowTransport({
      uri: options.uri,
      timeoutMs: options.timeoutMs ?? 600_000,
      ...(options.retries === undefined ? {} : { retries: options.retries }),
    });
    this.uri = this.transport.uri;
  }

  /** Uploads `bytes` as the file at `artifactPath`, replacing one that is there. */
  async put(artifactPath: string, bytes: Buffer): Promise<void> {
    await this.send('PUT', artifactPath, bytes);
  }

  /**
   * Fails with one actionable line unless the server answers the artifact proxy's list route (a server started
   * with `--no-serve-artifacts` answers 503), without the retries a busy server would get.
   */
  async checkServing(): Promise<void> {
    try {
      await this.transport.request('GET', `${ROUTE}?path=`, undefined, { retries: 0, timeoutMs: 30_000 });
    } catch (error) {
      if (error instanceof MlflowError && error.status === 503) {
        throw new PipelineError(
          'TRACKING_UNAVAILABLE',
          `MLflow at ${this.uri} does not serve artifacts; start it with --serve-artifacts to use it as the node store`,
          { cause: error },
        );
      }
      throw this.failure(error, 'GET', '', ' — start it, or drop --node-store to use a shared workspace');
    }
  }

  /** The file at `artifactPath`, or undefined when there is none. */
  async get(artifactPath: string): Promise<Buffer | undefined> {
    return (await this.send('GET', artifactPath)) as Buffer | undefined;
  }

  /** One request; a GET of a missing file gives undefined, other failures a message about the node store. */
  private async send(method: 'GET' | 'PUT', artifactPath: string, body?: Buffer): Promise<unknown> {
    try {
      return await this.transport.request(method, `${ROUTE}/${encodePath(artifactPath)}`, body, {
        raw: method === 'GET',
      });
    } catch (error) {
      if (method === 'GET' && error instanceof MlflowError && error.status === 404) return undefined;
      throw this.failure(error, method, artifactPath);
    }
  }

  /** A failed request as one line about the node store (the tracking client's wording is about tracking). */
  private failure(error: unknown, method: string, artifactPath: string, advice = ''): unknown {
    if (!(error instanceof MlflowError)) return error;
    const inner = (error.cause as { cause?: { code?: string; message?: string } } | undefined)?.cause;
    const reason = inner?.code ?? inner?.message ?? 'no answer';
    const what = error.status === undefined ? `is unreachable (${reason})` : `answered ${error.status}`;
    const request = artifactPath ? ` to ${method} ${artifactPath}` : '';
    return new PipelineError(error.code, `node store at ${this.uri} ${what}${request}${advice}`, { cause: error });
  }
}

function encodePath(artifactPath: string): string {
  return artifactPath.split('/').map(encodeURIComponent).join('/');
}
