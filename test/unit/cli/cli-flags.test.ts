import { Command } from '@commander-js/extra-typings';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { withQueueFlags, withRunFlags, type OptionsOf } from '../../../src/cli/cli-flags.js';

/** Parses `args` for a `run`-like command and returns what its action handler received. */
function parseRun(args: string[]) {
  let received: OptionsOf<ReturnType<typeof withRunFlags<[string], Record<never, never>>>> | undefined;
  const program = new Command().exitOverride();
  withRunFlags(program.command('run').argument('<sweep>')).action((_sweep, options) => {
    received = options;
  });
  program.parse(['run', 'sweep.yaml', ...args], { from: 'user' });
  return received;
}

afterEach(() => vi.unstubAllEnvs());

describe('flag values and their environment fallbacks', () => {
  it('reads --queue from REDIS_URL and --tracking-uri from MLFLOW_TRACKING_URI when the flags are absent', () => {
    vi.stubEnv('REDIS_URL', 'redis://10.0.0.5:6379');
    vi.stubEnv('MLFLOW_TRACKING_URI', 'http://mlflow:5000');
    vi.stubEnv('PIPELINE_WORKSPACE', '/shared/ws');
    expect(parseRun([])).toMatchObject({
      queue: 'redis://10.0.0.5:6379',
      trackingUri: 'http://mlflow:5000',
      workspace: '/shared/ws',
    });
  });

  it('a flag on the command line wins over the environment', () => {
    vi.stubEnv('REDIS_URL', 'redis://10.0.0.5:6379');
    vi.stubEnv('MLFLOW_TRACKING_URI', 'http://mlflow:5000');
    const options = parseRun(['--queue', 'redis://127.0.0.1:7000', '--tracking-uri', 'http://127.0.0.1:5001']);
    expect(options).toMatchObject({ queue: 'redis://127.0.0.1:7000', trackingUri: 'http://127.0.0.1:5001' });
  });

  it('without flags or environment, runs locally with the defaults', () => {
    vi.stubEnv('REDIS_URL', undefined);
    vi.stubEnv('MLFLOW_TRACKING_URI', undefined);
    vi.stubEnv('PIPELINE_WORKSPACE', undefined);
    const options = parseRun(['--set', 'train.lr=0.1', '--set', 'train.epochs=2', '--parallel', '3']);
    expect(options).toEqual({
      set: ['train.lr=0.1', 'train.epochs=2'],
      workspace: '.pipeline',
      parallel: 3,
      backend: 'auto',
      queuePrefix: 'pipeline',
    });
  });

  it('the worker reads the same queue flags', () => {
    vi.stubEnv('REDIS_URL', 'redis://queue:6379');
    let queue: string | undefined;
    const program = new Command().exitOverride();
    withQueueFlags(program.command('worker')).action((options) => void (queue = options.queue));
    program.parse(['worker'], { from: 'user' });
    expect(queue).toBe('redis://queue:6379');
  });
});
