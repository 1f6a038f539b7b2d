import { realpathSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from '@commander-js/extra-typings';
import { PipelineError } from '../errors.js';
import { cancelSweep } from '../orchestrator/cancel-sweep.js';
import { readQueueOverview, type QueueOverview } from '../orchestrator/queue-overview.js';
import { connectRedis } from '../queue/redis-connection.js';
import { resolveSweepPath } from '../spec/load-sweep.js';
import { startQueueWorker } from '../workers/queue-worker.js';
import { jsonOption, nodeStoreOption, positiveInt, withQueueFlags, workspaceOption, type Finish } from './cli-flags.js';
import { formatColumns } from './format-table.js';
import type { QueueFlags } from './open-executor.js';

interface WorkerOptions extends QueueFlags {
  devices: string;
  concurrency: number;
  lockMs: number;
  stopGrace: number;
  workspace: string;
  nodeStore?: string;
  verbose?: boolean;
}

/** Declares `worker`, `cancel` and `queue` with their flags. */
export function registerQueueCommands(program: Command, finish: Finish): void {
  withQueueFlags(program.command('worker'))
    .description('serve queued stages: one job per GPU device, or --concurrency jobs on the CPU')
    .option('--devices <list>', 'cpu, or gpu:0,gpu:1,...', 'cpu')
    .option('--concurrency <n>', 'jobs at once on a CPU worker', positiveInt, 1)
    .option('--lock-ms <ms>', "a dead worker's job is retried after about this long", positiveInt, 30_000)
    .addOption(
      new Option(
        '--stop-grace <s>',
        'on SIGTERM/SIGINT, seconds running jobs get to finish before they go back to the queue',
      )
        .argParser(nonNegativeInt)
        .default(20)
        .env('PIPELINE_STOP_GRACE'),
    )
    .addOption(workspaceOption)
    .addOption(nodeStoreOption)
    .option('--verbose', 'print every stage log line')
    .action((options) => finish(workerCommand(options)));
  withQueueFlags(program.command('cancel').argument('<sweep>'))
    .description(
      'stop a running sweep: its orchestrators exit, its queued jobs are removed and its running ones stopped (nodes other sweeps need are kept)',
    )
    .addOption(
      new Option(
        '--set <stage.key=value>',
        'only the runs started with exactly these --set flags (repeatable)',
      ).argParser((value: string, previous: string[] = []) => [...previous, value]),
    )
    .action((sweep, options) => finish(cancelCommand(sweep, options)));
  withQueueFlags(program.command('queue'))
    .description('jobs per queue, live workers and the nodes they run, registered sweeps')
    .addOption(jsonOption)
    .action((options) => finish(queueCommand(options)));
}

/** `pipeline worker`: serves the queues until SIGINT/SIGTERM, then lets running jobs finish. */
async function workerCommand(options: WorkerOptions): Promise<number> {
  const url = requireQueue(options);
  const devices = options.devices.split(',').map((d) => d.trim());
  if (!devices.every((d) => d === 'cpu' || /^gpu:\d+$/.test(d))) {
    throw new PipelineError('USAGE', `--devices ${options.devices}: expected cpu or gpu:0,gpu:1,...`);
  }
  const connection = await connectRedis(url);
  const log = (line: string) => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
  const worker = await startQueueWorker({ ...options, prefix: options.queuePrefix, connection, devices, log });
  const signal = () =>
    new Promise<NodeJS.Signals>((resolve) => {
      const on = (name: NodeJS.Signals) => () => {
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
        resolve(name);
      };
      const [onInt, onTerm] = [on('SIGINT'), on('SIGTERM')];
      process.once('SIGINT', onInt);
      process.once('SIGTERM', onTerm);
    });
  const first = await signal();
  log(
    `stopping (${first}): no new jobs; running jobs get ${options.stopGrace} s to finish, then go back to the queue ` +
      `without using an attempt (${first === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'} again: quit at once)`,
  );
  const outcome = await Promise.race([worker.stop(options.stopGrace * 1000).then(() => 'stopped' as const), signal()]);
  if (outcome !== 'stopped') {
    log('quitting at once: running jobs are retried when their locks expire');
    worker.abandon();
    connection.disconnect();
    return 130;
  }
  await connection.quit().catch(() => undefined);
  log('stopped');
  return 0;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number of seconds (0 or more)');
  return n;
}

/** `pipeline cancel`: cancels the registered runs of a sweep file (only those with `--set` flags, if given). */
async function cancelCommand(arg: string, options: QueueFlags & { set?: string[] }): Promise<number> {
  const url = requireQueue(options);
  const file = realpathSync(resolveSweepPath(arg));
  const connection = await connectRedis(url);
  try {
    const target = { file, ...(options.set === undefined ? {} : { overrides: options.set }) };
    const report = await cancelSweep(target, { connection, prefix: options.queuePrefix });
    const runs = report.runs.map((run) =>
      run.overrides.length > 0 ? `--set ${run.overrides.join(' --set ')}` : 'no --set',
    );
    process.stdout.write(
      `cancelled ${report.runs.length} run${report.runs.length === 1 ? '' : 's'} of ${file} (${runs.join('; ')}): ` +
        `${report.removed} queued jobs removed, ${report.stopped} running jobs told to stop, ` +
        `${report.kept} kept for other sweeps\n`,
    );
  } finally {
    await connection.quit().catch(() => undefined);
  }
  return 0;
}

/** `pipeline queue`: what a queue prefix holds now. */
async function queueCommand(options: QueueFlags & { json?: boolean }): Promise<number> {
  const connection = await connectRedis(requireQueue(options));
  try {
    const overview = await readQueueOverview(connection, options.queuePrefix);
    process.stdout.write(options.json ? `${JSON.stringify(overview, null, 2)}\n` : `${formatOverview(overview)}\n`);
  } finally {
    await connection.quit().catch(() => undefined);
  }
  return 0;
}

function formatOverview(overview: QueueOverview, now = Date.now()): string {
  const states = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;
  const counts = Object.entries(overview.queues).map(([name, row]) => [name, ...states.map((s) => String(row[s]))]);
  const lines = [`prefix ${overview.prefix}`, formatColumns([['queue', ...states], ...counts]), ''];
  lines.push(overview.workers.length === 0 ? 'no live workers' : `workers (${overview.workers.length}):`);
  const workerRows = overview.workers.map((worker) => {
    const running = worker.running.map((job) => `${job.nodeId} (${Math.round((now - job.since) / 1000)} s)`);
    return [`  ${worker.id}`, worker.devices.join(','), worker.workspace, running.join(', ') || 'idle'];
  });
  if (workerRows.length > 0) lines.push(formatColumns(workerRows));
  lines.push('', overview.sweeps.length === 0 ? 'no registered sweeps' : `sweeps (${overview.sweeps.length}):`);
  const sweepRows = overview.sweeps.map((run) => [
    `  ${run.file}`,
    run.overrides.map((o) => `--set ${o}`).join(' ') || '-',
    `${run.host}:${run.pid}`,
    run.live ? 'running' : 'detached',
    `${run.jobIds.length} jobs`,
  ]);
  if (sweepRows.length > 0) lines.push(formatColumns(sweepRows));
  return lines.join('\n');
}

function requireQueue(options: QueueFlags): string {
  const url = options.queue;
  if (!url) throw new PipelineError('USAGE', 'no queue: pass --queue redis://host:port or set REDIS_URL');
  return url;
}
