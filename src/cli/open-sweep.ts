import { existsSync, statSync } from 'node:fs';
import { PipelineError } from '../errors.js';
import { parseSetFlag } from '../spec/overrides.js';
import { loadSweep } from '../spec/load-sweep.js';
import { planSweep } from '../plan/plan-sweep.js';
import { fingerprintFolder } from '../store/data-folder.js';
import { WorkspaceStore } from '../store/workspace-store.js';
import { fingerprintPretrained } from './pretrained-weights.js';
import type { Plan, StageSpec, SweepSpec } from '../types.js';

export interface SweepCommandOptions {
  set?: string[];
  workspace: string;
  maxTrials?: number;
}

/** A loaded sweep with its plan and workspace: what every sweep command starts from. */
export interface OpenSweep {
  sweep: SweepSpec;
  plan: Plan;
  store: WorkspaceStore;
}

/** Loads the sweep (with --set overrides), plans it with data fingerprints, and opens the workspace. */
export async function openSweep(arg: string, options: SweepCommandOptions): Promise<OpenSweep> {
  const sweep = await loadSweep(
    arg,
    (options.set ?? []).map(parseSetFlag),
    options.maxTrials === undefined ? {} : { maxTrials: options.maxTrials },
  );
  const plan = planSweep(sweep, { fingerprint: fingerprintData });
  const store = new WorkspaceStore(options.workspace);
  if (existsSync(store.root) && !statSync(store.root).isDirectory()) {
    throw new PipelineError('USAGE', `--workspace ${options.workspace}: exists and is not a folder`);
  }
  return { sweep, plan, store };
}

/**
 * Content hash of the data folder an ingest stage reads, so changed images invalidate the cache.
 * Reading a few thousand small images takes well under a second. A missing folder stops the sweep before it starts.
 */
export function fingerprintData(stage: StageSpec, params: Record<string, unknown>): string | undefined {
  if (stage.kind === 'train') return fingerprintPretrained(stage, params);
  if (stage.kind !== 'ingest' || typeof params.dataDir !== 'string') return undefined;
  const root = params.dataDir;
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new PipelineError('DATA_INVALID', `stages.${stage.name}.params.dataDir: data folder ${root} not found`);
  }
  return fingerprintFolder(root);
}
