import type { ExecutionEvents, NodeOutcome, Plan, PlanNode, StageProgress } from '../types.js';

export interface ProgressDisplayOptions {
  /** Live redrawn lines when true, plain log lines otherwise. */
  tty: boolean;
  /** Also print stage log lines. */
  verbose: boolean;
  write(text: string): void;
}

interface Running {
  node: PlanNode;
  started: number;
  update?: StageProgress;
}

/**
 * Shows a sweep's progress: on a terminal, one live line per running node (stage, epoch/total, loss,
 * val_accuracy) under an overall bar; elsewhere, one plain line per event.
 */
export function createProgressDisplay(
  plan: Plan,
  options: ProgressDisplayOptions,
): ExecutionEvents & { close(): void } {
  const started = Date.now();
  const running = new Map<string, Running>();
  const counts = { done: 0, cached: 0, failed: 0, skipped: 0 };
  let drawnLines = 0;
  let timer: NodeJS.Timeout | undefined;

  const redraw = () => {
    const lines = [...running.values()].map(
      (entry) => `  ${entry.node.id.padEnd(18)} ${describeProgress(entry.update)}`,
    );
    lines.push(overallLine(plan.nodes.length, counts, started));
    const clear = drawnLines > 0 ? `\x1b[${drawnLines}F\x1b[J` : '';
    options.write(`${clear}${lines.join('\n')}\n`);
    drawnLines = lines.length;
  };
  const print = (line: string) => {
    if (!options.tty) {
      options.write(`${line}\n`);
      return;
    }
    const clear = drawnLines > 0 ? `\x1b[${drawnLines}F\x1b[J` : '';
    drawnLines = 0;
    options.write(`${clear}${line}\n`);
    redraw();
  };
  if (options.tty) timer = setInterval(redraw, 500);

  return {
    nodeStarted(node) {
      running.set(node.id, { node, started: Date.now() });
      // On a terminal the live lines already show what runs.
      if (!options.tty) print(`▶ ${node.id} started`);
    },
    nodeProgress(node, update) {
      const entry = running.get(node.id);
      if (entry) entry.update = update;
      if (!options.tty) options.write(`  ${node.id} ${describeProgress(update)}\n`);
    },
    nodeLog(node, message) {
      // Stages mark what a user must see (skipped files, a setting that cannot do what it says) with "warning: ".
      if (message.startsWith('warning: ')) print(`warning: ${node.id}: ${message.slice('warning: '.length)}`);
      else if (options.verbose) print(`  [${node.id}] ${message}`);
    },
    nodeFinished(node, outcome) {
      const entry = running.get(node.id);
      running.delete(node.id);
      counts[outcome.state === 'done' ? 'done' : outcome.state] += 1;
      const seconds = entry ? ` in ${((Date.now() - entry.started) / 1000).toFixed(1)}s` : '';
      const quiet =
        options.tty && (outcome.state === 'cached' || (outcome.state === 'skipped' && outcome.reason === 'cancelled'));
      if (!quiet) print(finishLine(node, outcome, seconds));
    },
    close() {
      if (timer) clearInterval(timer);
      if (options.tty) redraw();
      else options.write(`${overallLine(plan.nodes.length, counts, started)}\n`);
    },
  };
}

function describeProgress(update: StageProgress | undefined): string {
  if (!update) return 'running';
  const parts: string[] = [];
  if (update.epoch !== undefined) parts.push(`epoch ${update.epoch}/${update.epochs ?? '?'}`);
  const m = update.metrics ?? {};
  if (m.loss !== undefined) parts.push(`loss ${m.loss.toFixed(4)}`);
  if (m.val_accuracy !== undefined) parts.push(`val_accuracy ${m.val_accuracy.toFixed(4)}`);
  if (update.message) parts.push(update.message);
  return parts.join('  ');
}

function finishLine(node: PlanNode, outcome: NodeOutcome, seconds: string): string {
  switch (outcome.state) {
    case 'done': {
      const backend = outcome.record.backend;
      return `✔ ${node.id}${seconds}${backend && backend !== 'none' ? ` on ${backend}` : ''}`;
    }
    case 'cached':
      return `✔ ${node.id} (cached)`;
    case 'failed':
      return `✖ ${node.id} failed${seconds}: ${outcome.error}`;
    case 'skipped':
      return `- ${node.id} skipped: ${outcome.reason}`;
  }
}

function overallLine(total: number, counts: Record<string, number>, started: number): string {
  const finished = Object.values(counts).reduce((a, b) => a + b, 0);
  const width = 24;
  const filled = Math.round((finished / Math.max(1, total)) * width);
  const elapsed = Math.round((Date.now() - started) / 1000);
  const clock = `${Math.floor(elapsed / 60)}:${String(elapsed % 60).padStart(2, '0')}`;
  const detail = `${counts.done ?? 0} ran, ${counts.cached ?? 0} cached, ${counts.failed ?? 0} failed, ${counts.skipped ?? 0} skipped`;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${finished}/${total} nodes (${detail}) ${clock}`;
}
