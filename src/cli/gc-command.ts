import type { Command } from '@commander-js/extra-typings';
import { findGarbage, removeGarbage, type Garbage } from '../store/collect-garbage.js';
import { WorkspaceStore } from '../store/workspace-store.js';
import { workspaceOption, type Finish } from './cli-flags.js';
import { openSweep } from './open-sweep.js';

interface GcOptions {
  workspace: string;
  dryRun?: boolean;
  unreferenced?: string[];
}

/** Declares `pipeline gc`. */
export function registerGcCommand(program: Command, finish: Finish): void {
  program
    .command('gc')
    .description(
      "remove what no run needs: build folders of killed runs in tmp/, stale locks, committed nodes' checkpoints; with --unreferenced, also nodes none of the given sweeps uses",
    )
    .addOption(workspaceOption)
    .option('--dry-run', 'list what would be removed, remove nothing')
    .option(
      '--unreferenced <sweeps...>',
      'also remove nodes that none of these sweep files plans (with their checkpoints)',
    )
    .action((options) => finish(gcCommand(options)));
}

async function gcCommand(options: GcOptions): Promise<number> {
  const store = new WorkspaceStore(options.workspace);
  const keep = options.unreferenced && (await referencedKeys(options.unreferenced, options.workspace));
  const garbage = await findGarbage(store, keep ? { keep } : {});
  for (const item of garbage) {
    process.stdout.write(`${options.dryRun ? 'would remove' : 'removing'} ${item.kind}: ${item.path}\n`);
  }
  if (!options.dryRun) await removeGarbage(garbage);
  process.stdout.write(`${summary(garbage, options.dryRun === true)} in ${store.root}\n`);
  return 0;
}

/** Cache keys of every node the sweeps plan (their --set-free plans, as `pipeline run <sweep>` would build them). */
async function referencedKeys(sweeps: string[], workspace: string): Promise<Set<string>> {
  const keys = new Set<string>();
  for (const sweep of sweeps) {
    const { plan } = await openSweep(sweep, { workspace });
    for (const node of plan.nodes) keys.add(node.cacheKey);
  }
  return keys;
}

function summary(garbage: readonly Garbage[], dryRun: boolean): string {
  if (garbage.length === 0) return 'nothing to remove';
  const bytes = garbage.reduce((sum, item) => sum + item.bytes, 0);
  const counts = new Map<string, number>();
  for (const item of garbage) counts.set(item.kind, (counts.get(item.kind) ?? 0) + 1);
  const parts = [...counts].map(([kind, count]) => `${count} ${kind}${count === 1 ? '' : 's'}`);
  return `${dryRun ? 'would remove' : 'removed'} ${parts.join(', ')} (${(bytes / 1e6).toFixed(1)} MB)`;
}
