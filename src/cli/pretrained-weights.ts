import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { PipelineError } from '../errors.js';
import { MODEL_CATALOG, isModelName, type ModelFamily } from '../ml/models/model-catalog.js';
import type { StageSpec } from '../types.js';

interface ModelFile {
  weightsManifest?: { paths?: string[]; weights?: { name?: string }[] }[];
}

/**
 * Checks the tfjs Layers weights a `train` stage's `pretrained` path names, before anything runs, and returns their
 * content hash (part of the node's cache key, so new weights retrain). Refuses, as a spec error naming the field, a
 * path that is missing, a file that is not a tfjs Layers model, or weights without the layers the family needs
 * (its catalogue's `weightNames`). The full name-by-name check runs when the weights load.
 */
export function fingerprintPretrained(stage: StageSpec, params: Record<string, unknown>): string | undefined {
  if (stage.kind !== 'train' || typeof params.pretrained !== 'string') return undefined;
  const field = `stages.${stage.name}.params.pretrained`;
  const given = params.pretrained;
  const file = existsSync(given) && statSync(given).isDirectory() ? path.join(given, 'model.json') : given;
  if (!existsSync(file)) throw new PipelineError('SPEC_INVALID', `${field}: ${file} not found`);
  let json: ModelFile;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as ModelFile;
  } catch {
    throw new PipelineError('SPEC_INVALID', `${field}: ${file} is not a tfjs Layers model.json`);
  }
  const groups = json.weightsManifest ?? [];
  const names = new Set(groups.flatMap((group) => group.weights ?? []).map((weight) => weight.name));
  const family: ModelFamily | undefined =
    typeof params.model === 'string' && isModelName(params.model) ? MODEL_CATALOG[params.model] : undefined;
  const missing = (family?.weightNames ?? []).filter((name) => !names.has(name));
  if (missing.length > 0) {
    throw new PipelineError(
      'SPEC_INVALID',
      `${field}: ${file} has no weights named ${missing.join(', ')}; its layer names do not match ${String(params.model)}`,
    );
  }
  const hash = createHash('sha256').update(readFileSync(file));
  for (const name of groups.flatMap((group) => group.paths ?? [])) {
    const part = path.join(path.dirname(file), name);
    if (!existsSync(part)) throw new PipelineError('SPEC_INVALID', `${field}: weight file ${part} not found`);
    hash.update('\0').update(readFileSync(part));
  }
  return hash.digest('hex');
}
