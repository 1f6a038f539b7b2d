#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { messageOf, PipelineError, type ErrorCode } from './errors.js';
import { BACKENDS } from './ml/backend.js';
import type { QueueFlags } from './cli/open-executor.js';
import { predictCommand, type PredictOptions } from './cli/predict-command.js';
import { cancelCommand, workerCommand, type WorkerOptions } from './cli/queue-commands.js';
import {
  dagCommand,
  planCommand,
  rerunCommand,
  runCommand,
  statusCommand,
  type ListOptions,
  type RerunOptions,
  type RunOptions,
} from './cli/sweep-commands.js';
import { runsCommand, showCommand, syncCommand, type RunsOptions, type SyncOptions } from './cli/tracking-commands.js';

const EXIT_CODES: Partial<Record<ErrorCode, number>> = {
  USAGE: 2,
  SPEC_INVALID: 2,
  SPEC_NOT_FOUND: 2,
  DAG_CYCLE: 2,
  NOT_FOUND: 2,
  DATA_INVALID: 3,
  REDIS_UNAVAILABLE: 4,
  TRACKING_UNAVAILABLE: 4,
  CANCELLED: 130,
};

const positiveInt = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};
const collect = (value: string, previous: string[] = []) => [...previous, value];

const workspace = new Option('--workspace <dir>', 'where node outputs are cached (shared with workers)')
  .env('PIPELINE_WORKSPACE')
  .default('.pipeline');
const set = new Option('--set <stage.key=value>', 'override a pipeline parameter (repeatable)').argParser(collect);
const backend = new Option('--backend <name>', 'tfjs backend').choices(['auto', ...BACKENDS]).default('auto');
const json = new Option('--json', 'machine-readable output');
const queue = new Option(
  '--queue <redis-url>',
  'run stages through BullMQ queues on this Redis (default: $REDIS_URL, else locally)',
);
const queuePrefix = new Option('--queue-prefix <name>', 'Redis key prefix of the queues').default('pipeline');
const trackingUri = new Option('--tracking-uri <url>', 'MLflow server to log to (default: $MLFLOW_TRACKING_URI)');
const runFlags = (command: Command) =>
  command
    .addOption(set)
    .addOption(workspace)
    .option('--parallel <n>', 'nodes running at once (default: number of cores)', positiveInt)
    .addOption(backend)
    .addOption(json)
    .addOption(queue)
    .addOption(queuePrefix)
    .option('--verbose', 'print every stage log line')
    .addOption(trackingUri)
    .option('--experiment <name>', 'MLflow experiment (default: the pipeline name)');

// `pipeline plan x | head` closes stdout early; that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

let exitCode = 0;
const program = new Command('pipeline')
  .description('Run machine-learning experiment sweeps as a DAG, with shared stages and a content-hash cache.')
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(text) })
  .exitOverride();

runFlags(program.command('run <sweep>').description('plan and run a sweep; prints the results table')).action(
  async (sweep: string, options: RunOptions) => void (exitCode = await runCommand(sweep, options)),
);
runFlags(program.command('rerun <sweep>').description('recompute one stage even if cached, reusing cached upstream'))
  .requiredOption('--stage <name>', 'stage to recompute')
  .option('--trial <id>', 'only this trial')
  .option('--downstream', 'also recompute every stage depending on it')
  .action(async (sweep: string, options: RerunOptions) => void (exitCode = await rerunCommand(sweep, options)));
program
  .command('plan <sweep>')
  .description('show what would run and what is cached; runs nothing')
  .addOption(set)
  .addOption(workspace)
  .addOption(json)
  .action(async (sweep: string, options: ListOptions) => void (exitCode = await planCommand(sweep, options)));
program
  .command('dag <sweep>')
  .description('print the plan as a mermaid flowchart')
  .addOption(set)
  .addOption(workspace)
  .action(async (sweep: string, options: ListOptions) => void (exitCode = await dagCommand(sweep, options)));
program
  .command('status <sweep>')
  .description('results so far, one row per trial, best first')
  .addOption(set)
  .addOption(workspace)
  .addOption(json)
  .action(async (sweep: string, options: ListOptions) => void (exitCode = await statusCommand(sweep, options)));
program
  .command('predict <path>')
  .description("classify images with a trial's model (folder-per-class tree → CSV + report)")
  .requiredOption('--sweep <file>', 'sweep whose trial to use')
  .option('--trial <id>', "trial id, or 'best'", 'best')
  .option('--out <file>', 'CSV of truth vs prediction (folder-per-class input)', 'predictions.csv')
  .addOption(set)
  .addOption(workspace)
  .addOption(backend)
  .addOption(json)
  .action(async (target: string, options: PredictOptions) => void (exitCode = await predictCommand(target, options)));

program
  .command('worker')
  .description('serve queued stages: one job per GPU device, or --concurrency jobs on the CPU')
  .addOption(queue)
  .addOption(queuePrefix)
  .option('--devices <list>', 'cpu, or gpu:0,gpu:1,...', 'cpu')
  .option('--concurrency <n>', 'jobs at once on a CPU worker', positiveInt, 1)
  .option('--lock-ms <ms>', "a dead worker's job is retried after about this long", positiveInt, 30_000)
  .option('--verbose', 'print every stage log line')
  .action(async (options: WorkerOptions) => void (exitCode = await workerCommand(options)));
program
  .command('cancel <sweep>')
  .description("remove a sweep's queued jobs and stop its running ones")
  .addOption(queue)
  .addOption(queuePrefix)
  .addOption(set)
  .addOption(workspace)
  .action(
    async (sweep: string, options: ListOptions & QueueFlags) => void (exitCode = await cancelCommand(sweep, options)),
  );
program
  .command('runs')
  .description('list the runs journaled in the workspace, and which reached MLflow')
  .addOption(workspace)
  .addOption(json)
  .action(async (options: RunsOptions) => void (exitCode = await runsCommand(options)));
program
  .command('show <run>')
  .description('one journaled run (trial id, journal id or MLflow run id): params, metrics, tags, artifacts')
  .addOption(workspace)
  .addOption(json)
  .action(async (run: string, options: RunsOptions) => void (exitCode = await showCommand(run, options)));
program
  .command('sync')
  .description('send journaled runs that MLflow does not have yet (after the server was down)')
  .addOption(trackingUri)
  .addOption(workspace)
  .action(async (options: SyncOptions) => void (exitCode = await syncCommand(options)));

try {
  await program.parseAsync();
} catch (error) {
  exitCode = report(error);
}
process.exitCode = exitCode;

function report(error: unknown): number {
  const commanderCode = (error as { code?: string }).code;
  if (commanderCode?.startsWith('commander.')) {
    return commanderCode === 'commander.helpDisplayed' || commanderCode === 'commander.version' ? 0 : 2;
  }
  if (error instanceof PipelineError) {
    process.stderr.write(`pipeline: ${error.message}\n`);
    return EXIT_CODES[error.code] ?? 1;
  }
  process.stderr.write(`pipeline: internal error: ${messageOf(error)}\n${(error as Error).stack ?? ''}\n`);
  return 70;
}
