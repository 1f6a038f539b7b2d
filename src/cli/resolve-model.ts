import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PipelineError } from '../errors.js';
import { findDamage } from '../store/node-integrity.js';
import { collectTrialRows, readStoredKnowledge } from '../orchestrator/trial-results.js';
import { fetchModel } from '../tracking/open-tracking.js';
import { openSweep, type SweepCommandOptions } from './open-sweep.js';

/** Where a command takes its model from: a trial of a sweep in the workspace, or MLflow (`--model models:/…`). */
export interface ModelSourceOptions extends SweepCommandOptions {
  /** A `models:/NAME/VERSION` (or `@ALIAS`, `/latest`, `models:/<model id>`) URI on the tracking server. */
  model?: string | undefined;
  /** The sweep whose trial's model to use (without `--model`). */
  sweep?: string | undefined;
  /** Trial id, or `best`. */
  trial: string;
  /** MLflow server for `--model` (`--tracking-uri`, else $MLFLOW_TRACKING_URI). */
  trackingUri?: string | undefined;
}

/** A model folder ready to load (`model.json`, `weights.bin`, `classes.json`), and how to let it go. */
export interface ResolvedModel {
  dir: string;
  /** What it is, for output: `models:/face-mask/3` or `trial t02`. */
  label: string;
  /** Removes a downloaded copy; nothing for a workspace folder. */
  release(): Promise<void>;
}

/**
 * The one place commands that load a trained model (`predict`, and later `detect`) find it: with `--model`, a
 * registered (or logged) model downloaded from MLflow into a temporary folder; otherwise the model of a sweep's
 * trial, read from the workspace.
 */
export async function resolveModel(options: ModelSourceOptions): Promise<ResolvedModel> {
  if (options.model !== undefined && options.sweep !== undefined) {
    throw new PipelineError('USAGE', 'give either --model models:/NAME/VERSION or --sweep FILE, not both');
  }
  if (options.model !== undefined) return downloadRegistered(options.model, options.trackingUri);
  if (options.sweep === undefined) {
    throw new PipelineError('USAGE', 'which model? give --sweep FILE [--trial ID] or --model models:/NAME/VERSION');
  }
  return { ...(await trialModel(options.sweep, options)), release: () => Promise.resolve() };
}

async function downloadRegistered(uri: string, trackingUri: string | undefined): Promise<ResolvedModel> {
  if (!trackingUri) {
    throw new PipelineError(
      'USAGE',
      `--model ${uri} needs the MLflow server: give --tracking-uri URL (or MLFLOW_TRACKING_URI)`,
    );
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pipeline-model-'));
  const release = () => rm(dir, { recursive: true, force: true });
  try {
    const model = await fetchModel(trackingUri, uri, dir);
    return { dir, label: model.version ? `${uri} (version ${model.version})` : uri, release };
  } catch (error) {
    await release();
    throw error;
  }
}

async function trialModel(sweepFile: string, options: ModelSourceOptions): Promise<{ dir: string; label: string }> {
  const { plan, store } = await openSweep(sweepFile, options);
  const rows = collectTrialRows(plan, await readStoredKnowledge(plan, store));
  const row = options.trial === 'best' ? rows.find((r) => r.best) : rows.find((r) => r.id === options.trial);
  if (!row) {
    const reason =
      options.trial === 'best' ? 'no trial has finished yet; run the sweep first' : `no trial ${options.trial}`;
    throw new PipelineError('NOT_FOUND', `--trial ${options.trial}: ${reason}`);
  }
  const train = plan.nodes.find((node) => node.kind === 'train' && node.trials.includes(row.id));
  if (!train || !store.has(train.cacheKey)) {
    throw new PipelineError('NOT_FOUND', `trial ${row.id} has no trained model in ${store.root}; run the sweep first`);
  }
  // A damaged model gives shape errors or NaN confidences; say what is wrong instead, before loading it.
  const record = await store.readRecord(train.cacheKey);
  const damage = record && (await findDamage(store.nodeDir(train.cacheKey), record, 'hash'));
  if (damage) {
    throw new PipelineError(
      'DATA_INVALID',
      `trial ${row.id}'s model (node ${train.id}) is damaged: ${damage}; run the sweep again to rebuild it`,
    );
  }
  return { dir: path.join(store.nodeDir(train.cacheKey), 'model'), label: `trial ${row.id}` };
}
