import { PipelineError } from '../errors.js';
import type { StageKind, StageProgress, StageResult } from '../types.js';

/** What a stage gets to do its work; it never knows how it was scheduled. */
export interface StageContext {
  /** Empty folder for this node's outputs; moved into the store when the stage succeeds. */
  outDir: string;
  /** Kept across attempts of this node and removed once it succeeds; train saves a checkpoint here every epoch. */
  checkpointDir: string;
  /** Output folders of upstream nodes, by stage kind. */
  inputs: Partial<Record<StageKind, string>>;
  /**
   * The data folder the node's ingest input read, for stages that re-read the original images (synthesize). Given
   * by whoever schedules the node, since the folder's path differs between machines (the ingest output does not say).
   */
  sourceData?: string;
  /** Human-readable progress lines. */
  log(message: string): void;
  /** Structured progress (epoch, metrics) for live displays and trackers. */
  progress(update: StageProgress): void;
  /** Aborted when the run is cancelled. */
  signal: AbortSignal;
  /** Throws a CANCELLED error once the run is cancelled; stages call it between batches and before writing. */
  throwIfCancelled(): void;
  /** Name of the tfjs backend in use, for stages that record it. */
  backend: string;
}

/** A stage implementation: validated params in, files in `ctx.outDir` and a result out. */
export type StageRun<P> = (ctx: StageContext, params: P) => Promise<StageResult>;

/** A {@link StageContext.throwIfCancelled} for `signal`: the error says which stage (`what`) stopped. */
export function cancellationCheck(signal: AbortSignal, what: string): () => void {
  return () => {
    if (signal.aborted) throw new PipelineError('CANCELLED', `${what} cancelled`);
  };
}
