import type { StageKind } from '../types.js';
import type { StageRun } from './stage-context.js';

/**
 * Stage implementations by kind, loaded on demand so a process that only ingests never loads tfjs.
 * Params arrive already validated against the kind's schema in the catalog.
 */
export async function loadStage(kind: StageKind): Promise<StageRun<never>> {
  switch (kind) {
    case 'ingest':
      return (await import('./ingest.js')).runIngest;
    case 'split':
      return (await import('./split.js')).runSplit;
    case 'embed':
      return (await import('./embed.js')).runEmbed;
    case 'train':
      return (await import('./train.js')).runTrain;
    case 'evaluate':
      return (await import('./evaluate.js')).runEvaluate;
    case 'visualize':
      return (await import('./visualize.js')).runVisualize;
    case 'synthesize':
      return (await import('./synthesize.js')).runSynthesize;
  }
}
