import { STAGES, backboneTraining, type TrainParams } from '../stages/catalog.js';
import type { PipelineSpec, PlanNode, StageSpec } from '../types.js';
import { canonicalJson, sha256 } from '../util/hash.js';

/** What a node is before the trials that share it are known. */
export type NodeDraft = Omit<PlanNode, 'id' | 'trial' | 'trials'>;

/** An `embed` node to put before a train node, or only the note saying why there is none. */
export interface EmbedPlan {
  node?: NodeDraft;
  note?: string;
}

/**
 * The `embed` node a `train` stage gets when its backbone is frozen and only the head trains: it computes the
 * backbone's features of the split's images once. Its cache key hashes only what the features depend on (family,
 * input size, weights and their fingerprint, the split), so every trial of an lr × optimizer × batch-size grid, and
 * any later sweep with another grid, shares it. Returns a note instead when the backbone trains end to end.
 */
export function embedNodeFor(
  pipeline: PipelineSpec,
  stage: StageSpec,
  params: Record<string, unknown>,
  upstream: readonly (readonly [string, string | undefined])[],
  external: string | undefined,
): EmbedPlan | undefined {
  if (stage.kind !== 'train') return undefined;
  // Params come from resolveStageParams, already parsed by this schema; parsing again costs per trial of a big grid.
  const how = backboneTraining(params as TrainParams);
  if (how === undefined) return undefined;
  if ('endToEnd' in how) return { note: `backbone trains end to end: ${how.endToEnd}` };
  const kinds = new Map(pipeline.stages.map((s) => [s.name, s.kind]));
  const split = upstream.filter(([name]) => kinds.get(name) === 'split');
  const cacheKey = sha256(
    canonicalJson({
      kind: 'embed',
      version: STAGES.embed.version,
      params: how.embed,
      external: external ?? null,
      upstream: Object.fromEntries(split),
    }),
  );
  const node: NodeDraft = {
    stage: `${stage.name}-embed`,
    kind: 'embed',
    needs: split.map(([, key]) => key ?? ''),
    cacheKey,
    params: how.embed,
    resources: STAGES.embed.resources,
  };
  return { node, note: `head only, on the features of ${node.stage}` };
}
