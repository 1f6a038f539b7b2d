import { Redis } from 'ioredis';
import { PipelineError } from '../errors.js';

/** Where the queue lives: `redis://[:password@]host[:port][/db]` and a key prefix isolating one deployment. */
export interface QueueTarget {
  url: string;
  prefix: string;
}

/**
 * Opens a Redis connection suitable for BullMQ (no per-command retry limit, so a restarted Redis is waited for),
 * and fails fast with one actionable line when the server cannot be reached at start.
 */
export async function connectRedis(url: string, timeoutMs = 5000): Promise<Redis> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PipelineError('USAGE', `--queue ${url}: not a URL; expected redis://host:port`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new PipelineError('USAGE', `--queue ${url}: expected a redis:// or rediss:// URL`);
  }
  const redis = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true, connectTimeout: timeoutMs });
  redis.on('error', () => undefined); // reconnects are automatic; failures surface through commands
  try {
    await redis.connect();
    await redis.ping();
  } catch (cause) {
    redis.disconnect();
    const where = `${parsed.hostname}:${parsed.port || '6379'}`;
    throw new PipelineError(
      'REDIS_UNAVAILABLE',
      `Redis at ${where} is not reachable (${(cause as Error).message}) — start it, or drop --queue to run locally`,
      {
        cause,
      },
    );
  }
  return redis;
}

/** `redis://host:port[/db]` of a Redis URL, without its credentials: safe to print, and names the same database. */
export function redisAddress(url: string): string {
  try {
    const parsed = new URL(url);
    const database = parsed.pathname === '/' ? '' : parsed.pathname;
    return `${parsed.protocol}//${parsed.hostname}:${parsed.port || '6379'}${database}`;
  } catch {
    return url;
  }
}

/** A warning when Redis may evict queue keys under memory pressure (BullMQ needs `noeviction`), else undefined. */
export async function checkEvictionPolicy(redis: Redis): Promise<string | undefined> {
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
    const policy = reply[1];
    if (policy && policy !== 'noeviction') {
      return `warning: Redis maxmemory-policy is '${policy}'; set it to 'noeviction' or queued jobs may be lost under memory pressure`;
    }
  } catch {
    // Managed Redis services often forbid CONFIG; nothing to check then.
  }
  return undefined;
}
