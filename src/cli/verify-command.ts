import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { findDamage } from '../store/node-integrity.js';
import { WorkspaceStore } from '../store/workspace-store.js';
import { withSweepFlags, type Finish } from './cli-flags.js';
import { openSweep, type SweepCommandOptions } from './open-sweep.js';

/** Declares `pipeline verify [sweep]`. */
export function registerVerifyCommand(program: Command, finish: Finish): void {
  withSweepFlags(program.command('verify').argument('[sweep]'))
    .description(
      "check built nodes (a sweep's, or the whole workspace's) against the sizes and sha256 hashes recorded when they were built; exit 3 if any is damaged",
    )
    .action((sweep, options) => finish(verifyCommand(sweep, options)));
}

interface Target {
  /** How the node is named to the user: its plan id, or its stage and key in the whole workspace. */
  label: string;
  cacheKey: string;
}

async function verifyCommand(arg: string | undefined, options: SweepCommandOptions): Promise<number> {
  const { store, targets } = arg === undefined ? await workspaceTargets(options) : await sweepTargets(arg, options);
  let damaged = 0;
  let unverified = 0;
  for (const [index, target] of targets.entries()) {
    if (process.stderr.isTTY) process.stderr.write(`\rverifying ${index + 1}/${targets.length}`);
    const record = await store.readRecord(target.cacheKey);
    const problem = record
      ? await findDamage(store.nodeDir(target.cacheKey), record, 'hash')
      : 'result.json is unreadable';
    if (record && !record.files) unverified += 1;
    if (problem) {
      damaged += 1;
      process.stdout.write(`${process.stderr.isTTY ? '\n' : ''}damaged ${target.label}: ${problem}\n`);
    }
  }
  if (process.stderr.isTTY) process.stderr.write('\n');
  const checked = targets.length - unverified;
  const old = unverified > 0 ? `, ${unverified} built before hashes were recorded (not checkable)` : '';
  process.stdout.write(
    `${targets.length} nodes in ${store.root}: ${checked - damaged} intact, ${damaged} damaged${old}` +
      (damaged > 0 ? '; `pipeline run` rebuilds damaged nodes' : '') +
      '\n',
  );
  return damaged > 0 ? 3 : 0;
}

async function sweepTargets(arg: string, options: SweepCommandOptions) {
  const { plan, store } = await openSweep(arg, options);
  const targets = plan.nodes
    .filter((node) => store.has(node.cacheKey))
    .map((node) => ({ label: node.id, cacheKey: node.cacheKey }));
  return { store, targets };
}

async function workspaceTargets(options: SweepCommandOptions) {
  const store = new WorkspaceStore(options.workspace);
  const keys = await readdir(path.join(store.root, 'nodes')).catch(() => [] as string[]);
  const targets: Target[] = [];
  for (const key of keys.sort()) {
    if (!store.has(key)) continue;
    const record = await store.readRecord(key);
    targets.push({ label: `${record?.stage ?? '?'} ${key.slice(0, 12)}`, cacheKey: key });
  }
  return { store, targets };
}
