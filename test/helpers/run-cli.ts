import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './temp-project.js';

const CLI = path.join(ROOT, 'dist', 'cli.js');

/** How a test starts the CLI: working folder and extra environment (e.g. PIPELINE_STAGE_FIXTURES). */
export interface CliOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** A command line that starts the CLI: it gets node, the CLI and its arguments appended (e.g. `unshare -m …`). */
  wrap?: string[];
  /** Another build of the CLI to run (an older worker), instead of this checkout's `dist/cli.js`. */
  cli?: string;
}

// Variables the CLI reads as flag defaults are dropped, so a developer's shell (REDIS_URL pointing the suite at
// an external Redis, say) cannot turn a local run into a queued one; tests pass what they mean explicitly.
const INHERITED_ONLY_IF_GIVEN = ['REDIS_URL', 'MLFLOW_TRACKING_URI', 'PIPELINE_WORKSPACE', 'PIPELINE_STAGE_FIXTURES'];

function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' };
  for (const name of INHERITED_ONLY_IF_GIVEN) delete env[name];
  return { ...env, ...extra };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (`npm run build` first) and collects its output. `onStderr` sees output as it arrives. */
export function runCli(
  args: string[],
  options: CliOptions & { onStderr?: (text: string, child: ChildProcess) => void } = {},
): Promise<CliResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does)`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd ?? ROOT, env: cliEnv(options.env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      options.onStderr?.(stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A long-running CLI process (e.g. a worker) whose output is collected as it goes. */
export interface CliProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves when the output matches `pattern` (rejects after `timeoutMs`). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<number | null>;
}

/** Starts the built CLI without waiting for it. */
export function startCli(args: string[], options: CliOptions = {}): CliProcess {
  const [command, ...prefix] = [...(options.wrap ?? []), process.execPath];
  const child = spawn(command ?? process.execPath, [...prefix, options.cli ?? CLI, ...args], {
    cwd: options.cwd ?? ROOT,
    env: cliEnv(options.env),
  });
  let text = '';
  const append = (chunk: Buffer) => (text += chunk.toString());
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    child,
    output: () => text,
    exited,
    waitFor: (pattern, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const started = Date.now();
        const timer = setInterval(() => {
          if (pattern.test(text)) {
            clearInterval(timer);
            resolve();
          } else if (Date.now() - started > timeoutMs || child.exitCode !== null) {
            clearInterval(timer);
            reject(new Error(`timed out waiting for ${pattern} in:\n${text}`));
          }
        }, 50);
      }),
  };
}
