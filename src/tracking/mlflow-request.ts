import { setTimeout as sleep } from 'node:timers/promises';
import { messageOf, PipelineError } from '../errors.js';
import { AUTH_ENV, resolveTrackingServer, type TrackingServer } from './mlflow-auth.js';

/** How to reach an MLflow tracking server and how hard to try. */
export interface MlflowRequestOptions {
  /**
   * Base URL, `http(s)://host:port[/prefix]`, as given to `--tracking-uri` or `MLFLOW_TRACKING_URI`; a user and
   * password in it are sent as basic auth.
   */
  uri: string;
  /** Where MLFLOW_TRACKING_USERNAME / _PASSWORD / _TOKEN are read from (default: the process environment). */
  env?: NodeJS.ProcessEnv;
  /** Extra attempts after a 429, a 5xx, a timeout or a refused connection (default 4). */
  retries?: number;
  /** First backoff delay in ms, doubled each retry (default 250). */
  backoffMs?: number;
  /** Per-request time limit in ms (default 30 000). */
  timeoutMs?: number;
  /** The fetch to use (default: Node's); tests pass a fake. */
  fetch?: typeof fetch;
}

/** Per-call changes to the transport's defaults. */
export interface CallOptions {
  /** Return the body as bytes instead of parsed JSON. */
  raw?: boolean;
  /** Retries for this call (0 for a call that must not be repeated blindly, such as a create). */
  retries?: number;
  timeoutMs?: number;
}

/**
 * An MLflow call that did not succeed. `TRACKING_REJECTED`: the server answered 4xx to this request (retrying cannot
 * help, other requests may still pass, unless `auth` says the server refused who we are); `TRACKING_UNAVAILABLE`: no
 * usable answer after the retries (server down, 5xx, timeout).
 */
export class MlflowError extends PipelineError {
  override name = 'MlflowError';
  declare readonly code: 'TRACKING_REJECTED' | 'TRACKING_UNAVAILABLE';
  constructor(
    code: 'TRACKING_REJECTED' | 'TRACKING_UNAVAILABLE',
    message: string,
    readonly status?: number,
    /** MLflow's own `error_code`, e.g. INVALID_PARAMETER_VALUE or RESOURCE_ALREADY_EXISTS. */
    readonly errorCode?: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }

  /** The server refused our credentials (401) or our permissions (403): no other request will pass either. */
  get auth(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

/** Checks a tracking URI and returns it without credentials and trailing slash; only http(s) servers are supported. */
export function normalizeTrackingUri(uri: string): string {
  return resolveTrackingServer(uri, {}).uri;
}

/**
 * Sends requests to one MLflow server: retries with backoff and jitter on 429, 5xx, timeouts and refused
 * connections; credentials go in the Authorization header and never into a message.
 */
export class MlflowTransport {
  /** The server's address without credentials. */
  readonly uri: string;
  private readonly server: TrackingServer;

  constructor(private readonly options: MlflowRequestOptions) {
    this.server = resolveTrackingServer(options.uri, options.env ?? process.env);
    this.uri = this.server.uri;
  }

  /** Sends one request with retries; returns the response body (parsed JSON, or raw bytes with `raw`). */
  async request(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    route: string,
    body?: unknown,
    call: CallOptions = {},
  ): Promise<unknown> {
    const retries = call.retries ?? this.options.retries ?? 4;
    const doFetch = this.options.fetch ?? fetch;
    const init = requestInit(method, body, this.server.authorization);
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await doFetch(`${this.uri}${route}`, {
          ...init,
          signal: AbortSignal.timeout(call.timeoutMs ?? this.options.timeoutMs ?? 30_000),
        });
        if (response.ok) return call.raw ? Buffer.from(await response.arrayBuffer()) : await readJson(response);
        const failure = await this.responseError(method, route, response);
        if (failure.code === 'TRACKING_REJECTED' || attempt >= retries) throw failure;
        await sleep(this.retryDelay(attempt, response.headers.get('retry-after')));
      } catch (error) {
        if (error instanceof MlflowError) throw error;
        if (attempt >= retries) throw this.connectionError(error);
        await sleep(this.retryDelay(attempt, null));
      }
    }
  }

  private async responseError(method: string, route: string, response: Response): Promise<MlflowError> {
    const text = await response.text().catch(() => '');
    let errorCode: string | undefined;
    let detail = text.replace(/\s+/g, ' ').trim().slice(0, 300);
    try {
      const parsed = JSON.parse(text) as { error_code?: string; message?: string };
      errorCode = parsed.error_code;
      // MLflow appends SQL text to some messages; its first line is the part a person needs.
      if (parsed.message) detail = parsed.message.split('\n')[0] ?? parsed.message;
    } catch {
      // not MLflow's JSON error shape: keep the raw text
    }
    if (response.status === 401) detail = this.unauthorizedHint();
    else if (response.status === 403) detail = `${detail || 'forbidden'} (the user lacks the permission for this)`;
    const retryable = response.status === 429 || response.status >= 500;
    const what = `${response.status}${errorCode ? ` ${errorCode}` : ''}`;
    return new MlflowError(
      retryable ? 'TRACKING_UNAVAILABLE' : 'TRACKING_REJECTED',
      `MLflow at ${this.uri} answered ${what} to ${method} ${route.split('?')[0] ?? route}: ${detail || response.statusText}`,
      response.status,
      errorCode,
    );
  }

  private unauthorizedHint(): string {
    const from = this.server.credentialsFrom;
    if (from) return `it refused the credentials from ${from}`;
    return `it needs credentials: set ${AUTH_ENV.username} and ${AUTH_ENV.password}, or ${AUTH_ENV.token}`;
  }

  private connectionError(error: unknown): MlflowError {
    const cause = (error as { cause?: { code?: string } }).cause;
    const reason =
      cause?.code ?? ((error as Error).name === 'TimeoutError' ? 'timed out' : messageOf(error).slice(0, 200));
    return new MlflowError(
      'TRACKING_UNAVAILABLE',
      `MLflow at ${this.uri} is unreachable (${reason}) — start it; runs stay in the local journal and \`pipeline sync\` sends them later`,
      undefined,
      undefined,
      { cause: error },
    );
  }

  private retryDelay(attempt: number, retryAfter: string | null): number {
    const asked = retryAfter === null ? NaN : Number(retryAfter) * 1000;
    if (Number.isFinite(asked) && asked >= 0) return Math.min(asked, 10_000);
    const base = (this.options.backoffMs ?? 250) * 2 ** attempt;
    // Jitter keeps many workers that failed together from retrying in lockstep.
    return base * (0.75 + Math.random() * 0.5);
  }

  /** The backoff before attempt `attempt + 1` of a call the caller repeats itself (see `findOrCreate`). */
  backoff(attempt: number): Promise<void> {
    return sleep(this.retryDelay(attempt, null));
  }

  /** Retries a caller-driven loop may make (the transport's default). */
  get retries(): number {
    return this.options.retries ?? 4;
  }
}

function requestInit(method: string, body: unknown, authorization: string | undefined): RequestInit {
  const auth: Record<string, string> = authorization ? { Authorization: authorization } : {};
  if (body === undefined) return { method, headers: auth };
  if (Buffer.isBuffer(body)) {
    return { method, body: new Uint8Array(body), headers: { ...auth, 'Content-Type': 'application/octet-stream' } };
  }
  return { method, body: JSON.stringify(body), headers: { ...auth, 'Content-Type': 'application/json' } };
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  return text.trim() === '' ? {} : (JSON.parse(text) as unknown);
}

/**
 * Creates something a lost answer may already have created (a run, a logged model, a model version): looks it up
 * first, creates without the transport's blind retries, and when the create gets no usable answer looks again
 * before trying once more. `find` and `create` are this one thing's lookup and creation.
 */
export async function findOrCreate<T>(
  transport: MlflowTransport,
  find: () => Promise<T | undefined>,
  create: () => Promise<T>,
): Promise<{ value: T; created: boolean }> {
  for (let attempt = 0; ; attempt++) {
    const found = await find();
    if (found !== undefined) return { value: found, created: false };
    try {
      return { value: await create(), created: true };
    } catch (error) {
      if (!(error instanceof MlflowError) || error.code !== 'TRACKING_UNAVAILABLE' || attempt >= transport.retries) {
        throw error;
      }
      await transport.backoff(attempt);
    }
  }
}
