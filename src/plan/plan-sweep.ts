import path from 'node:path';
import { STAGES } from '../stages/catalog.js';
import { resolveStageParams } from '../spec/overrides.js';
import type { Plan, PlanNode, StageSpec, SweepSpec, Trial } from '../types.js';
import { canonicalJson, sha256 } from '../util/hash.js';
import { embedNodeFor, type NodeDraft } from './embed-node.js';
import { expandGrid } from './expand-grid.js';

/** Data a stage reads from outside the workspace, summarised as a string (e.g. a folder's listing hash). */
export type FingerprintExternal = (stage: StageSpec, params: Record<string, unknown>) => string | undefined;

export interface PlanOptions {
  /** Called for each node whose stage reads outside data; its answer becomes part of the cache key. */
  fingerprint?: FingerprintExternal;
}

/**
 * Expands the sweep into trials and builds the DAG. Pure: same sweep (and fingerprints), same plan.
 * A node's cache key hashes its stage kind, code version, resolved params, external fingerprint and upstream keys,
 * so nodes that are equal across trials (shared upstream) merge into one.
 */
export function planSweep(sweep: SweepSpec, options: PlanOptions = {}): Plan {
  const trials = expandGrid(sweep);
  const nodes = new Map<string, PlanNode>();
  // Shared stages (ingest reading a folder) have the same params in every trial: fingerprint each once, not per trial.
  const memo = { ...options, fingerprint: options.fingerprint && memoizeFingerprint(options.fingerprint) };
  const shared = new Map<string, string>();
  const varying = varyingStages(sweep);
  for (const trial of trials) addTrialNodes(sweep, trial, nodes, memo, { shared, varying });
  const all = trials.length;
  for (const node of nodes.values()) {
    node.trial = node.trials.length === 1 ? (node.trials[0] ?? null) : null;
    node.id = nodeId(node, all);
  }
  // Re-point needs from cache keys to the final ids.
  const idOf = new Map([...nodes.values()].map((node) => [node.cacheKey, node.id]));
  for (const node of nodes.values()) node.needs = node.needs.map((key) => idOf.get(key) ?? key);
  return {
    sweep: sweep.file,
    pipelineFile: sweep.pipeline.file,
    trials,
    nodes: [...nodes.values()],
    objective: sweep.objective,
  };
}

/** Stages whose params a grid key sets, and everything downstream of them: the only ones that differ between trials. */
function varyingStages(sweep: SweepSpec): Set<string> {
  const varying = new Set(sweep.grid.map((dimension) => dimension.path.split('.')[0] ?? ''));
  for (const stage of sweep.pipeline.stages) {
    if (stage.needs.some((need) => varying.has(need))) varying.add(stage.name);
  }
  return varying;
}

/** Cache keys of the stages no grid key reaches, computed with the first trial and reused by the others. */
interface TrialReuse {
  shared: Map<string, string>;
  varying: Set<string>;
}

function addTrialNodes(
  sweep: SweepSpec,
  trial: Trial,
  nodes: Map<string, PlanNode>,
  options: PlanOptions,
  reuse: TrialReuse,
): void {
  const gridOverrides = Object.entries(trial.params).map(([dotPath, value]) => ({
    path: dotPath,
    value,
    origin: sweep.file,
    baseDir: path.dirname(sweep.file),
  }));
  const params = resolveStageParams(sweep.pipeline, [...sweep.overrides, ...gridOverrides]);
  const keyOf = new Map<string, string>();
  for (const stage of sweep.pipeline.stages) {
    const known = reuse.varying.has(stage.name) ? undefined : reuse.shared.get(stage.name);
    const node = known === undefined ? undefined : nodes.get(known);
    if (known !== undefined && node) {
      keyOf.set(stage.name, known);
      node.trials.push(trial.id);
      // A frozen backbone's embed node comes with its stage: it serves this trial too.
      for (const need of node.needs) {
        const up = nodes.get(need);
        if (up?.kind === 'embed') up.trials.push(trial.id);
      }
      continue;
    }
    const stageParams = params.get(stage.name) ?? {};
    const upstream = stage.needs.map((need) => [need, keyOf.get(need)] as const);
    const external = options.fingerprint?.(stage, stageParams);
    const embed = embedNodeFor(sweep.pipeline, stage, stageParams, upstream, external);
    if (embed?.node) {
      addNode(nodes, trial.id, embed.node);
      upstream.push([embed.node.stage, embed.node.cacheKey]);
    }
    const cacheKey = computeCacheKey({
      kind: stage.kind,
      version: STAGES[stage.kind].version,
      params: stageParams,
      external,
      upstream: Object.fromEntries(upstream),
    });
    keyOf.set(stage.name, cacheKey);
    if (!reuse.varying.has(stage.name)) reuse.shared.set(stage.name, cacheKey);
    addNode(nodes, trial.id, {
      stage: stage.name,
      kind: stage.kind,
      needs: upstream.map(([, key]) => key ?? ''),
      cacheKey,
      params: stageParams,
      resources: stage.resources,
      ...(embed?.note === undefined ? {} : { note: embed.note }),
    });
  }
}

/** Adds `draft` for `trialId`, or adds the trial to the node with the same cache key. */
function addNode(nodes: Map<string, PlanNode>, trialId: string, draft: NodeDraft): void {
  const existing = nodes.get(draft.cacheKey);
  if (existing) {
    existing.trials.push(trialId);
    return;
  }
  nodes.set(draft.cacheKey, { id: draft.cacheKey, trial: trialId, trials: [trialId], ...draft });
}

function memoizeFingerprint(fingerprint: FingerprintExternal): FingerprintExternal {
  const known = new Map<string, string | undefined>();
  // Stages that read nothing outside (answer undefined) are asked directly: cheaper than building a memo key.
  const inside = new Set<string>();
  return (stage, params) => {
    if (inside.has(stage.name)) return fingerprint(stage, params);
    // Params come out of resolveStageParams in a fixed key order, so plain JSON identifies them here.
    const key = `${stage.name}\0${JSON.stringify(params)}`;
    if (!known.has(key)) {
      const answer = fingerprint(stage, params);
      if (answer === undefined) inside.add(stage.name);
      known.set(key, answer);
    }
    return known.get(key);
  };
}

/** What identifies a node's output; see {@link planSweep}. */
export interface CacheKeyInput {
  kind: string;
  version: string;
  params: Record<string, unknown>;
  external: string | undefined;
  upstream: Record<string, string | undefined>;
}

/** sha256 over the canonical JSON of everything that determines a node's output. */
export function computeCacheKey(input: CacheKeyInput): string {
  // canonicalJson(input) written out by its sorted keys, with the params' part memoised: the stages below the grid's
  // stage share one params object across all trials (resolveStageParams), only their upstream keys differ.
  const parts: string[] = [];
  if (input.external !== undefined) parts.push(`"external":${JSON.stringify(input.external)}`);
  parts.push(
    `"kind":${JSON.stringify(input.kind)}`,
    `"params":${canonicalParams(input.params)}`,
    `"upstream":${canonicalJson(input.upstream)}`,
    `"version":${JSON.stringify(input.version)}`,
  );
  return sha256(`{${parts.join(',')}}`);
}

// Resolved params are never mutated after planning's validation, so their canonical form can be kept per object.
const canonicalOfParams = new WeakMap<object, string>();

function canonicalParams(params: Record<string, unknown>): string {
  let text = canonicalOfParams.get(params);
  if (text === undefined) canonicalOfParams.set(params, (text = canonicalJson(params)));
  return text;
}

function nodeId(node: PlanNode, trialCount: number): string {
  if (node.trials.length === trialCount && trialCount > 1) return node.stage;
  if (node.trials.length === 1) return `${node.trials[0] ?? ''}/${node.stage}`;
  return `${node.stage}@${node.cacheKey.slice(0, 8)}`;
}
