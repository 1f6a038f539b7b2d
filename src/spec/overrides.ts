import { STAGES, switchTrainFamily } from '../stages/catalog.js';
import { isModelName } from '../ml/models/model-catalog.js';
import type { Override, PipelineSpec, StageSpec } from '../types.js';
import { resolveDataPaths } from './load-pipeline.js';
import { objectShape } from './yaml-source.js';
import { PipelineError } from '../errors.js';
import { parse as parseYamlValue } from 'yaml';
import path from 'node:path';

type OverrideTarget = string | { stage: StageSpec; keys: string[] };

// Planning resolves every grid key once per trial (10^5 trials for a large grid); the answer only depends on the path.
const targets = new WeakMap<PipelineSpec, Map<string, OverrideTarget>>();

/** Splits `stage.key.sub` into the stage and the key path, checking both exist; returns an error message or the parts. */
export function checkOverridePath(pipeline: PipelineSpec, dotPath: string): OverrideTarget {
  let known = targets.get(pipeline);
  if (!known) targets.set(pipeline, (known = new Map<string, OverrideTarget>()));
  let target = known.get(dotPath);
  if (target === undefined) known.set(dotPath, (target = findOverrideTarget(pipeline, dotPath)));
  return target;
}

function findOverrideTarget(pipeline: PipelineSpec, dotPath: string): OverrideTarget {
  const [stageName = '', ...keys] = dotPath.split('.');
  const stage = pipeline.stages.find((candidate) => candidate.name === stageName);
  if (!stage) {
    return `no stage '${stageName}' in ${path.basename(pipeline.file)} (stages: ${pipeline.stages.map((s) => s.name).join(', ')})`;
  }
  if (keys.length === 0) return `'${dotPath}' names a stage, not a parameter; write ${stageName}.<param>`;
  let schema: unknown = STAGES[stage.kind].params;
  for (const [index, key] of keys.entries()) {
    const shape = objectShape(schema);
    if (!shape || !(key in shape)) {
      const known = shape ? Object.keys(shape).join(', ') : 'none';
      return `${stage.kind} stage '${stageName}' has no parameter '${keys.slice(0, index + 1).join('.')}' (known: ${known})`;
    }
    schema = shape[key];
  }
  return { stage, keys };
}

/** Returns a copy of `params` with `value` at the nested key path. */
export function setAtPath(
  params: Record<string, unknown>,
  keys: readonly string[],
  value: unknown,
): Record<string, unknown> {
  const [head, ...rest] = keys;
  if (head === undefined) return params;
  if (rest.length === 0) return { ...params, [head]: value };
  const child = params[head];
  const base =
    child !== null && typeof child === 'object' && !Array.isArray(child) ? (child as Record<string, unknown>) : {};
  return { ...params, [head]: setAtPath(base, rest, value) };
}

/** Parses `stage.key=value` from the command line; the value is read as YAML (numbers, booleans, lists). */
export function parseSetFlag(flag: string): Override {
  const eq = flag.indexOf('=');
  if (eq <= 0) throw new PipelineError('USAGE', `--set ${flag}: expected stage.key=value`);
  const raw = flag.slice(eq + 1);
  let value: unknown;
  try {
    value = parseYamlValue(raw) as unknown;
  } catch {
    value = raw;
  }
  return { path: flag.slice(0, eq).trim(), value, origin: '--set', baseDir: process.cwd() };
}

/**
 * Applies overrides to a pipeline's params and validates each touched stage.
 * Returns resolved params (defaults applied) per stage name, or throws SPEC_INVALID naming the override's origin.
 */
export function resolveStageParams(
  pipeline: PipelineSpec,
  overrides: readonly Override[],
): Map<string, Record<string, unknown>> {
  const raw = new Map(pipeline.stages.map((stage) => [stage.name, stage.params]));
  for (const override of overrides) {
    const target = checkOverridePath(pipeline, override.path);
    if (typeof target === 'string')
      throw new PipelineError('SPEC_INVALID', `${override.origin}: ${override.path}: ${target}`);
    const current = raw.get(target.stage.name) ?? {};
    let updated = setAtPath(current, target.keys, override.value);
    const family = override.value;
    if (target.stage.kind === 'train' && target.keys.join('.') === 'model' && typeof family === 'string') {
      if (isModelName(family)) updated = switchTrainFamily(updated, family);
    }
    raw.set(target.stage.name, resolveDataPaths(target.stage.kind, updated, override.baseDir));
  }
  const resolved = new Map<string, Record<string, unknown>>();
  for (const stage of pipeline.stages) {
    const parsed = parseStageParams(stage, raw.get(stage.name));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const keyPath = [stage.name, ...(issue?.path ?? []).map(String)].join('.');
      const culprit = overrides.find(
        (override) => keyPath.startsWith(override.path) || override.path.startsWith(keyPath),
      );
      const origin = culprit ? `${culprit.origin}: ${culprit.path}=${JSON.stringify(culprit.value)}` : pipeline.file;
      throw new PipelineError('SPEC_INVALID', `${origin}: ${keyPath}: ${issue?.message ?? 'invalid'}`);
    }
    resolved.set(stage.name, parsed.data);
  }
  return resolved;
}

type ParsedParams = ReturnType<(typeof STAGES)[keyof typeof STAGES]['params']['safeParse']>;

// A stage no override touched keeps the pipeline's own params object: its validation is the same for every trial,
// so it is done once (planning a 10^5-trial grid would otherwise parse every shared stage 10^5 times).
const untouched = new WeakMap<object, ParsedParams>();

function parseStageParams(stage: StageSpec, raw: Record<string, unknown> | undefined): ParsedParams {
  const schema = STAGES[stage.kind].params;
  if (raw === undefined || raw !== stage.params) return schema.safeParse(raw);
  let parsed = untouched.get(raw);
  if (!parsed) untouched.set(raw, (parsed = schema.safeParse(raw)));
  return parsed;
}
