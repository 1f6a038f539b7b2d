import os from 'node:os';
import path from 'node:path';
import { readdir } from 'node:fs/promises';
import type { Command } from '@commander-js/extra-typings';
import { messageOf, PipelineError, storageFailure } from '../errors.js';
import { findGarbage, removeGarbage } from '../store/collect-garbage.js';
import { checkWorkspaceWritable } from '../store/check-workspace.js';
import type { NodeOutcome, Plan, TrialRow } from '../types.js';
import { createEarlyStopEvents } from '../orchestrator/early-stop/early-stop-events.js';
import { collectTrialRows, readStoredKnowledge } from '../orchestrator/trial-results.js';
import { jsonOption, withRunFlags, withSweepFlags, type Finish, type OptionsOf } from './cli-flags.js';
import { formatResults } from './format-table.js';
import { openExecutor } from './open-executor.js';
import { openSweep, type OpenSweep, type SweepCommandOptions } from './open-sweep.js';
import { writeSweepReport } from './report-command.js';
import { createProgressDisplay } from './progress-display.js';
import { selectNodes, type NodeSelection } from './select-nodes.js';
import { composeEvents, startTracking } from './tracking-commands.js';

type RunOptions = OptionsOf<ReturnType<typeof withRunFlags<[], Record<never, never>>>>;

interface ListOptions extends SweepCommandOptions {
  json?: boolean;
}

/** Declares `run`, `rerun`, `plan`, `dag` and `status` with their flags. */
export function registerSweepCommands(program: Command, finish: Finish): void {
  withRunFlags(program.command('run').argument('<sweep>'))
    .description('plan and run a sweep; prints the results table')
    .action((sweep, options) => finish(runCommand(sweep, options)));
  withRunFlags(program.command('rerun').argument('<sweep>'))
    .description('recompute one stage even if cached, reusing cached upstream')
    .requiredOption('--stage <name>', 'stage to recompute')
    .option('--trial <id>', 'only this trial')
    .option('--downstream', 'also recompute every stage depending on it')
    .action((sweep, options) => finish(rerunCommand(sweep, options)));
  withSweepFlags(program.command('plan').argument('<sweep>'))
    .description('show what would run and what is cached; runs nothing')
    .addOption(jsonOption)
    .action((sweep, options) => finish(planCommand(sweep, options)));
  withSweepFlags(program.command('dag').argument('<sweep>'))
    .description('print the plan as a mermaid flowchart')
    .action((sweep, options) => finish(dagCommand(sweep, options)));
  withSweepFlags(program.command('status').argument('<sweep>'))
    .description('results so far, one row per trial, best first')
    .addOption(jsonOption)
    .action((sweep, options) => finish(statusCommand(sweep, options)));
}

interface SweepState {
  sweep: string;
  finishedAt: string;
  nodes: Record<string, { state: NodeOutcome['state']; error?: string; reason?: string }>;
}

/** `pipeline run`: executes the plan (cached nodes reused), prints the results table; exit 1 if a trial failed. */
async function runCommand(arg: string, options: RunOptions): Promise<number> {
  return execute(await openSweep(arg, options), new Set(), options);
}

/** `pipeline rerun`: recomputes one stage (for all trials or one), optionally with everything downstream of it. */
async function rerunCommand(arg: string, options: RunOptions & NodeSelection): Promise<number> {
  const opened = await openSweep(arg, options);
  const force = selectNodes(opened.plan, options);
  return execute(opened, force, options);
}

async function execute({ sweep, plan, store }: OpenSweep, force: Set<string>, options: RunOptions): Promise<number> {
  await checkWorkspaceWritable(store.root);
  // Locally, the cores bound the work; on a queue, the workers do, so every ready node is queued.
  const queued = Boolean(options.queue);
  const parallel = Math.min(
    options.parallel ?? (queued ? Infinity : os.availableParallelism()),
    sweep.maxParallel ?? Infinity,
  );
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const display = createProgressDisplay(plan, {
    tty: !options.json && process.stderr.isTTY,
    verbose: options.verbose ?? false,
    write: (text) => process.stderr.write(text),
  });
  if (sweep.earlyStop && options.nodeStore !== undefined) {
    // The verdicts travel through the checkpoint folder, which only a shared workspace has.
    throw new PipelineError(
      'USAGE',
      `${sweep.file}: early_stop needs workers on the shared workspace; drop --node-store`,
    );
  }
  const opened = await openExecutor(options, (line) => process.stderr.write(`${line}\n`));
  const where = opened.where === 'local' ? `${parallel} at once` : `on ${opened.where}`;
  process.stderr.write(`${sweep.name}: ${plan.trials.length} trials, ${plan.nodes.length} nodes, ${where}\n`);
  const tracking = startTracking({ sweep, plan, store }, options);
  let outcomes: Map<string, NodeOutcome>;
  try {
    outcomes = await opened.executor.execute(plan, {
      store,
      force,
      parallel,
      backend: options.backend,
      events: composeEvents(
        ...(sweep.earlyStop ? [createEarlyStopEvents(plan, sweep.earlyStop, store)] : []),
        display,
        tracking.events,
      ),
      signal: controller.signal,
      warn: (line) => process.stderr.write(`${line}\n`),
    });
  } finally {
    display.close();
    await opened.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const state: SweepState = {
    sweep: sweep.file,
    finishedAt: new Date().toISOString(),
    nodes: Object.fromEntries([...outcomes].map(([id, outcome]) => [id, describeOutcome(outcome)])),
  };
  await store.writeJson(store.sweepFile(sweep.name), state);
  // Build folders left in tmp/ by killed runs go; anything a live build (another run, a worker) holds a lock for stays.
  await removeGarbage((await findGarbage(store)).filter((item) => item.kind === 'build folder'));
  const rows = collectTrialRows(plan, outcomes);
  printRows(plan, rows, options.json);
  // The results stand without the report: a disk that refuses it is a warning, not a failed sweep.
  const report = await writeSweepReport({ sweep, plan, store }).catch((error: unknown) => {
    process.stderr.write(
      `warning: the sweep report was not written: ${storageFailure(error, path.join(store.root, 'report'))?.message ?? messageOf(error)}\n`,
    );
    return undefined;
  });
  if (report !== undefined) process.stderr.write(`report: ${report}\n`);
  await tracking.finish(rows, report === undefined ? undefined : { root: path.dirname(report), files: ['index.html'] });
  if (controller.signal.aborted)
    throw new PipelineError('CANCELLED', 'cancelled; finished nodes are kept, run again to resume');
  if (rows.some((row) => row.state === 'cancelled'))
    throw new PipelineError('CANCELLED', 'cancelled by pipeline cancel; finished nodes are kept, run again to resume');
  const noWorker = [...outcomes.values()].find((o) => o.state === 'failed' && o.code === 'WORKERS_UNAVAILABLE');
  if (noWorker?.state === 'failed') throw new PipelineError('WORKERS_UNAVAILABLE', noWorker.error);
  // Bad data (an unreadable class, a truth file naming unknown images) is exit 3 when it is all that failed.
  const failed = [...outcomes.values()].flatMap((o) => (o.state === 'failed' ? [o.code] : []));
  if (failed.length > 0 && failed.every((code) => code === 'DATA_INVALID')) return 3;
  // A trial stopped early is a result, not a failure.
  return rows.some((row) => row.state !== 'done' && row.state !== 'stopped') ? 1 : 0;
}

function describeOutcome(outcome: NodeOutcome): SweepState['nodes'][string] {
  if (outcome.state === 'failed') return { state: 'failed', error: outcome.error };
  if (outcome.state === 'skipped') return { state: 'skipped', reason: outcome.reason };
  return { state: outcome.state };
}

/** `pipeline status`: the results table from the workspace, without running anything. */
async function statusCommand(arg: string, options: ListOptions): Promise<number> {
  const { sweep, plan, store } = await openSweep(arg, options);
  const last = await store.readJson<SweepState>(store.sweepFile(sweep.name));
  const known = await readStoredKnowledge(plan, store);
  // Nodes without output keep how the last run left them (failed, skipped or cancelled).
  for (const node of plan.nodes) {
    const previous = last?.nodes[node.id];
    if (known.has(node.id) || !previous) continue;
    if (previous.state === 'failed')
      known.set(node.id, { state: 'failed', error: previous.error ?? 'failed', code: 'STAGE_FAILED' });
    else if (previous.state === 'skipped')
      known.set(node.id, { state: 'skipped', reason: previous.reason ?? 'skipped' });
  }
  printRows(plan, collectTrialRows(plan, known), options.json);
  return 0;
}

function printRows(plan: Plan, rows: TrialRow[], json: boolean | undefined): void {
  if (json) process.stdout.write(`${JSON.stringify({ objective: plan.objective, trials: rows }, null, 2)}\n`);
  else process.stdout.write(`${formatResults(plan, rows)}\n`);
}

/** `pipeline plan`: what would run and what is cached, nothing executed. */
async function planCommand(arg: string, options: ListOptions): Promise<number> {
  const { plan, store } = await openSweep(arg, options);
  // One listing instead of a file check per node: a 10^5-trial plan has 3·10^5 nodes, almost none built.
  const listed = new Set(await readdir(path.join(store.root, 'nodes')).catch(() => [] as string[]));
  const nodes = plan.nodes.map((node) => ({
    id: node.id,
    stage: node.stage,
    kind: node.kind,
    trial: node.trial,
    trials: node.trials,
    needs: node.needs,
    cacheKey: node.cacheKey,
    cached: listed.has(node.cacheKey) && store.has(node.cacheKey),
    params: node.params,
    ...(node.note === undefined ? {} : { note: node.note }),
  }));
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ trials: plan.trials, nodes }, null, 2)}\n`);
    return 0;
  }
  const cached = nodes.filter((node) => node.cached).length;
  const lines = [
    `${plan.trials.length} trials, ${nodes.length} nodes: ${cached} cached, ${nodes.length - cached} to run`,
  ];
  for (const node of nodes) {
    const needs = node.needs.length > 0 ? ` ← ${node.needs.join(', ')}` : '';
    lines.push(
      `  ${node.cached ? 'cached ' : 'run    '} ${node.id}${needs}  [${node.cacheKey.slice(0, 12)}]` +
        `${node.note === undefined ? '' : `  (${node.note})`}`,
    );
  }
  // Written in large chunks: one write per line costs a system call each on a 3·10^5-line plan.
  for (let start = 0; start < lines.length; start += 10_000) {
    process.stdout.write(`${lines.slice(start, start + 10_000).join('\n')}\n`);
  }
  return 0;
}

/** `pipeline dag`: the plan as a mermaid flowchart. */
async function dagCommand(arg: string, options: SweepCommandOptions): Promise<number> {
  const { plan } = await openSweep(arg, options);
  const ids = new Map(plan.nodes.map((node, index) => [node.id, `n${index}`]));
  const lines = ['flowchart LR'];
  for (const node of plan.nodes) lines.push(`  ${ids.get(node.id) ?? ''}["${node.id}"]`);
  for (const node of plan.nodes) {
    for (const need of node.needs) lines.push(`  ${ids.get(need) ?? ''} --> ${ids.get(node.id) ?? ''}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
