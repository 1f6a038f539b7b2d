import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Where training checkpoints lie and what they say, without tfjs (small files, read synchronously): the train stage restores them (checkpoint.ts), the
 * orchestrator's early stopping reads a resumed trial's curve from them.
 */

/**
 * Everything besides the weights that decides the rest of a training run. Batches and dropout masks are drawn from
 * generators seeded per epoch (see the train stage), so the epoch number fixes the RNG and shuffle position.
 */
export interface TrainingState<Row> {
  /** The last finished epoch: the next one starts with fresh per-epoch seeds. */
  epoch: number;
  /** Metrics of every finished epoch. */
  history: Row[];
}

/** A complete checkpoint: its folder (`epoch-NNNN`, holding `model/`, `optimizer.*`, `state.json`) and state. */
export interface SavedCheckpoint<Row> {
  folder: string;
  state: TrainingState<Row>;
}

const FOLDER = /^epoch-(\d+)$/;

/** The folder name of the checkpoint after `epoch`. */
export function checkpointFolderName(epoch: number): string {
  return `epoch-${String(epoch).padStart(4, '0')}`;
}

/** The newest complete checkpoint in `dir` (one attempt's checkpoint folder), or undefined when there is none. */
export function latestCheckpoint<Row>(dir: string): SavedCheckpoint<Row> | undefined {
  if (!existsSync(dir)) return undefined;
  const epochs = readdirSync(dir).flatMap((name) => {
    const match = FOLDER.exec(name);
    return match ? [Number(match[1])] : [];
  });
  if (epochs.length === 0) return undefined;
  const folder = path.join(dir, checkpointFolderName(Math.max(...epochs)));
  const state = JSON.parse(readFileSync(path.join(folder, 'state.json'), 'utf8')) as TrainingState<Row>;
  return { folder, state };
}

/**
 * The newest complete checkpoint of a node, across its build attempts' folders (`checkpoints/<key>/<attempt>/`), or
 * undefined when no attempt saved one.
 */
export function latestNodeCheckpoint<Row>(nodeDir: string): SavedCheckpoint<Row> | undefined {
  if (!existsSync(nodeDir)) return undefined;
  let newest: SavedCheckpoint<Row> | undefined;
  for (const entry of readdirSync(nodeDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const saved = latestCheckpoint<Row>(path.join(nodeDir, entry.name));
    if (saved && (!newest || saved.state.epoch > newest.state.epoch)) newest = saved;
  }
  return newest;
}
