import { setTimeout as sleep } from 'node:timers/promises';
import { messageOf, PipelineError } from '../errors.js';

/** How to reach an MLflow tracking server and how hard to try. */
export interface MlflowRequestOptions {
  /** Base URL, `http(s)://host:port[/prefix]`, as given to `--tracking-uri` or `MLFLOW_TRACKING_URI`. */
  uri: string;
  /** Extra attempts after a 429, a 5xx, a timeout or a refused connection (default 4). */
  retries?: number;
  /** First backoff delay in ms, doubled each retry (default 250). */
  backoffMs?: number;
  /** Per-request time limit in ms (default 30 000). */
  timeoutMs?: number;
  /** The fetch to use (default: Node's); tests pass a fake. */
  fetch?: typeof fetch;
}

/**
 * An MLflow call that did not succeed. `rejected`: the server answered 4xx to this request (retrying cannot help,
 * other requests may still pass); `unavailable`: no usable answer after the retries (server down, 5xx, timeout).
 */
export class MlflowError extends PipelineError {
  override name = 'MlflowError';
  constructor(
    readonly kind: 'rejected' | 'unavailable',
    message: string,
    readonly status?: number,
    /** MLflow's own `error_code`, e.g. INVALID_PARAMETER_VALUE or RESOURCE_ALREADY_EXISTS. */
    readonly errorCode?: string,
    options?: { cause?: unknown },
  ) {
    super('TRACKING_UNAVAILABLE', message, options);
  }
}

/** Checks a tracking URI and returns it without a trailing slash; only http(s) servers are supported. */
export function normalizeTrackingUri(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new PipelineError('USAGE', `tracking URI '${uri}' is not a URL; give e.g. http://127.0.0.1:5000`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PipelineError(
      'USAGE',
      `tracking URI '${uri}': only http(s):// MLflow servers are supported (not ${url.protocol}); give e.g. http://127.0.0.1:5000`,
    );
  }
  return uri.replace(/\/+$/, '');
}

/** Sends one request with retries; returns the response body (parsed JSON, or raw bytes for `raw`). */
export async function sendRequest(
  options: MlflowRequestOptions,
  method: 'GET' | 'POST' | 'PUT',
  route: string,
  body?: unknown,
  raw = false,
): Promise<unknown> {
  const retries = options.retries ?? 4;
  const doFetch = options.fetch ?? fetch;
  const init = requestInit(method, body);
  for (let attempt = 0; ; attempt++) {
    let failure: MlflowError;
    try {
      const response = await doFetch(`${options.uri}${route}`, {
        ...init,
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      });
      if (response.ok) return raw ? Buffer.from(await response.arrayBuffer()) : await readJson(response);
      failure = await responseError(options.uri, method, route, response);
      if (failure.kind === 'rejected' || attempt >= retries) throw failure;
      await sleep(retryDelay(options, attempt, response.headers.get('retry-after')));
    } catch (error) {
      if (error instanceof MlflowError) throw error;
      failure = connectionError(options.uri, error);
      if (attempt >= retries) throw failure;
      await sleep(retryDelay(options, attempt, null));
    }
  }
}

function requestInit(method: string, body: unknown): RequestInit {
  if (body === undefined) return { method };
  if (Buffer.isBuffer(body)) {
    return { method, body: new Uint8Array(body), headers: { 'Content-Type': 'application/octet-stream' } };
  }
  return { method, body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } };
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  return text.trim() === '' ? {} : (JSON.parse(text) as unknown);
}

async function responseError(uri: string, method: string, route: string, response: Response): Promise<MlflowError> {
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
  const retryable = response.status === 429 || response.status >= 500;
  const what = `${response.status}${errorCode ? ` ${errorCode}` : ''}`;
  return new MlflowError(
    retryable ? 'unavailable' : 'rejected',
    `MLflow at ${uri} answered ${what} to ${method} ${route.split('?')[0] ?? route}: ${detail || response.statusText}`,
    response.status,
    errorCode,
  );
}

function connectionError(uri: string, error: unknown): MlflowError {
  const cause = (error as { cause?: { code?: string } }).cause;
  const reason =
    cause?.code ?? ((error as Error).name === 'TimeoutError' ? 'timed out' : messageOf(error).slice(0, 200));
  return new MlflowError(
    'unavailable',
    `MLflow at ${uri} is unreachable (${reason}) — start it; runs stay in the local journal and \`pipeline sync\` sends them later`,
    undefined,
    undefined,
    { cause: error },
  );
}

function retryDelay(options: MlflowRequestOptions, attempt: number, retryAfter: string | null): number {
  const asked = retryAfter === null ? NaN : Number(retryAfter) * 1000;
  if (Number.isFinite(asked) && asked >= 0) return Math.min(asked, 10_000);
  const base = (options.backoffMs ?? 250) * 2 ** attempt;
  // Jitter keeps many workers that failed together from retrying in lockstep.
  return base * (0.75 + Math.random() * 0.5);
}
