import { PipelineError } from '../errors.js';

/** An MLflow server's address without secrets, and how to authenticate to it. */
export interface TrackingServer {
  /** `http(s)://host[:port][/prefix]`, no credentials, no trailing slash: the only form messages and files show. */
  uri: string;
  /** Value of the `Authorization` header, or undefined for a server without authentication. */
  authorization: string | undefined;
  /** Where the credentials came from, for messages (never the credentials themselves). */
  credentialsFrom: string | undefined;
}

/** The environment variables MLflow's own clients read, with the same meaning. */
export const AUTH_ENV = {
  username: 'MLFLOW_TRACKING_USERNAME',
  password: 'MLFLOW_TRACKING_PASSWORD',
  token: 'MLFLOW_TRACKING_TOKEN',
} as const;

/**
 * Splits a tracking URI into its address and credentials. As MLflow's Python client does: a user and password in
 * the URL (`http://user:pass@host`) or in MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD are sent as HTTP basic
 * auth; otherwise MLFLOW_TRACKING_TOKEN as a bearer token. Only http(s) servers are supported.
 */
export function resolveTrackingServer(uri: string, env: NodeJS.ProcessEnv = process.env): TrackingServer {
  const url = parseTrackingUrl(uri);
  const clean = `${url.protocol}//${url.host}${url.pathname}${url.search}`.replace(/\/+$/, '');
  if (url.username || url.password) {
    const basic = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    return { uri: clean, authorization: basicHeader(basic), credentialsFrom: 'the user and password in the URL' };
  }
  const username = env[AUTH_ENV.username];
  const password = env[AUTH_ENV.password];
  if (username && password) {
    return {
      uri: clean,
      authorization: basicHeader(`${username}:${password}`),
      credentialsFrom: `${AUTH_ENV.username}/${AUTH_ENV.password}`,
    };
  }
  const token = env[AUTH_ENV.token];
  if (token) return { uri: clean, authorization: `Bearer ${token}`, credentialsFrom: AUTH_ENV.token };
  if (username || password) {
    const [given, missing] = username ? [AUTH_ENV.username, AUTH_ENV.password] : [AUTH_ENV.password, AUTH_ENV.username];
    throw new PipelineError('USAGE', `${given} is set but ${missing} is not: set both for basic auth`);
  }
  return { uri: clean, authorization: undefined, credentialsFrom: undefined };
}

/** A URI as it may be printed: a password in it (or a whole user:password part that does not parse) masked. */
export function redactUri(uri: string): string {
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/@]*)@/i, (_, scheme: string, userinfo: string) => {
    const user = userinfo.split(':')[0] ?? '';
    return `${scheme}${userinfo.includes(':') ? `${user}:***` : '***'}@`;
  });
}

function parseTrackingUrl(uri: string): URL {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new PipelineError('USAGE', `tracking URI '${redactUri(uri)}' is not a URL; give e.g. http://127.0.0.1:5000`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PipelineError(
      'USAGE',
      `tracking URI '${redactUri(uri)}': only http(s):// MLflow servers are supported (not ${url.protocol}); give e.g. http://127.0.0.1:5000`,
    );
  }
  return url;
}

function basicHeader(userAndPassword: string): string {
  return `Basic ${Buffer.from(userAndPassword, 'utf8').toString('base64')}`;
}
