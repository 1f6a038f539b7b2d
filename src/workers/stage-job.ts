import type { BackendChoice } from '../ml/backend-names.js';
import type { SerializedError } from '../errors.js';
import type { StageKind, StageProgress, StageResult } from '../types.js';

/** Everything a process needs to run one node: plain data, so it can cross a process (or queue) boundary. */
export interface StageJob {
  nodeId: string;
  /** The grid values of the node's trial, for error messages; absent on shared nodes. */
  trialLabel?: string;
  kind: StageKind;
  params: Record<string, unknown>;
  /** Upstream output folders by stage kind. */
  inputs: Partial<Record<StageKind, string>>;
  /** The data folder of the node's ingest input, for stages that re-read the original images. */
  sourceData?: string;
  outDir: string;
  /** Survives failed attempts of the same node, so a retried stage can resume (train: per-epoch checkpoints). */
  checkpointDir: string;
  backend: BackendChoice;
}

/** Messages from a stage process to its parent. */
export type StageMessage =
  | { type: 'log'; message: string }
  | { type: 'progress'; update: StageProgress }
  | { type: 'done'; result: StageResult; backend: string }
  | { type: 'error'; error: SerializedError };
