import { PipelineError } from '../errors.js';
import type { StageKind } from '../types.js';
import type { StageContext } from './stage-context.js';

/** The output folder of the first upstream stage of one of `kinds`; the pipeline rules guarantee one exists. */
export function inputDir(ctx: StageContext, ...kinds: StageKind[]): string {
  for (const kind of kinds) {
    const dir = ctx.inputs[kind];
    if (dir !== undefined) return dir;
  }
  throw new PipelineError('STAGE_FAILED', `missing input from a ${kinds.join(' or ')} stage`);
}
