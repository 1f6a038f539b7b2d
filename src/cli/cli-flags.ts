import { InvalidArgumentError, Option, type Command, type OptionValues } from '@commander-js/extra-typings';
import { BACKENDS } from '../ml/backend-names.js';

/**
 * Hands a command's exit status to the entry point, which alone sets the process's exit code. Commands throw for
 * errors; the entry point reports them and maps their codes.
 */
export type Finish = (status: Promise<number>) => Promise<void>;

/** The option values a command declared, as its action handler receives them. */
export type OptionsOf<C> = C extends { opts(): infer Opts } ? Opts : never;

/** Parses a flag's value as an integer ≥ 1. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `--workspace DIR`: where node outputs are cached; `$PIPELINE_WORKSPACE`, else `.pipeline`. */
export const workspaceOption = new Option('--workspace <dir>', 'where node outputs are cached (shared with workers)')
  .env('PIPELINE_WORKSPACE')
  .default('.pipeline');
/** `--set stage.key=value`, repeatable: overrides a pipeline parameter. */
export const setOption = new Option('--set <stage.key=value>', 'override a pipeline parameter (repeatable)').argParser(
  collect,
);
/** `--backend NAME`: the tfjs backend, `auto` by default. */
export const backendOption = new Option('--backend <name>', 'tfjs backend')
  .choices(['auto', ...BACKENDS])
  .default('auto');
/** `--json`: machine-readable output. */
export const jsonOption = new Option('--json', 'machine-readable output');
/** `--tracking-uri URL`: the MLflow server; `$MLFLOW_TRACKING_URI`, else none (the journal only). */
export const trackingUriOption = new Option('--tracking-uri <url>', 'MLflow server to log to').env(
  'MLFLOW_TRACKING_URI',
);
const queueOption = new Option(
  '--queue <redis-url>',
  'Redis holding the BullMQ queues (without one, run and rerun execute locally)',
).env('REDIS_URL');
const queuePrefixOption = new Option('--queue-prefix <name>', 'Redis key prefix of the queues').default('pipeline');
/** `--node-store URL`: an MLflow server with `--serve-artifacts`; queue workers without the shared disk exchange nodes through it. */
export const nodeStoreOption = new Option(
  '--node-store <mlflow-url>',
  'MLflow server (started with --serve-artifacts) through whose artifact proxy workers without a shared workspace exchange nodes',
).env('PIPELINE_NODE_STORE');

/** The flags of every command that opens a sweep: `--set` and `--workspace`. */
export function withSweepFlags<Args extends unknown[], Opts extends OptionValues>(command: Command<Args, Opts>) {
  return command
    .addOption(setOption)
    .addOption(workspaceOption)
    .option(
      '--max-trials <n>',
      "refuse a grid with more trials (default: the sweep's maxTrials, or 10000)",
      positiveInt,
    );
}

/** `--queue` (`$REDIS_URL`; neither: run locally) and `--queue-prefix`. */
export function withQueueFlags<Args extends unknown[], Opts extends OptionValues>(command: Command<Args, Opts>) {
  return command.addOption(queueOption).addOption(queuePrefixOption);
}

/** The flags of `pipeline run` and `rerun`: the sweep, how to execute it, and where to track it. */
export function withRunFlags<Args extends unknown[], Opts extends OptionValues>(command: Command<Args, Opts>) {
  return withSweepFlags(command)
    .option('--parallel <n>', 'nodes running at once (default: number of cores)', positiveInt)
    .addOption(backendOption)
    .addOption(jsonOption)
    .addOption(queueOption)
    .addOption(queuePrefixOption)
    .addOption(nodeStoreOption)
    .option(
      '--wait-for-workers <seconds>',
      'with --queue: give up on a queue no live worker serves after this long (default: keep waiting)',
      positiveInt,
    )
    .option('--verbose', 'print every stage log line')
    .addOption(trackingUriOption)
    .option('--experiment <name>', 'MLflow experiment (default: the pipeline name)')
    .option('--register <name>', "register the best trial's model in the MLflow Model Registry under this name");
}
