import path from 'node:path';
import { z } from 'zod';
import { STAGES, isStageKind } from '../stages/catalog.js';
import { STAGE_KINDS, type PipelineSpec, type StageSpec } from '../types.js';
import { checkPipelineRules } from './pipeline-rules.js';
import { parseWith, readYamlSource, type YamlSource } from './yaml-source.js';

const StageEntrySchema = z.strictObject({
  uses: z.enum(STAGE_KINDS).optional().describe('Stage kind; defaults to the stage name.'),
  description: z.string().optional(),
  needs: z.array(z.string().min(1)).default([]).describe('Stages whose outputs this one reads.'),
  params: z.record(z.string(), z.unknown()).default({}).describe("Stage parameters (see the kind's schema)."),
  resources: z
    .strictObject({ gpu: z.number().int().min(0).describe('GPUs the stage wants on a worker.') })
    .optional()
    .describe("Defaults to the kind's own needs (train and evaluate: 1 GPU)."),
});

/** The pipeline file as written. */
export const PipelineFileSchema = z.strictObject({
  name: z.string().min(1).optional().describe('Defaults to the file name.'),
  description: z.string().optional(),
  stages: z
    .record(z.string().regex(/^[a-z][a-z0-9_-]*$/, 'stage names are lower-case words'), StageEntrySchema)
    .refine((stages) => Object.keys(stages).length > 0, 'a pipeline needs at least one stage'),
});

/** Reads, validates and orders a pipeline file. Throws SPEC_INVALID / DAG_CYCLE with file:line:col. */
export async function loadPipeline(file: string): Promise<PipelineSpec> {
  return parsePipeline(await readYamlSource(path.resolve(file), 'pipeline file'));
}

/** Validates an already-read pipeline source (see {@link loadPipeline}). */
export function parsePipeline(source: YamlSource): PipelineSpec {
  const raw = parseWith(source, PipelineFileSchema);
  const stages: StageSpec[] = Object.entries(raw.stages).map(([name, entry]) => {
    const kind = entry.uses ?? name;
    if (!isStageKind(kind)) {
      throw source.error(
        ['stages', name],
        `unknown stage kind '${name}'; add 'uses:' with one of ${STAGE_KINDS.join(', ')}`,
      );
    }
    const info = STAGES[kind];
    const params = resolveDataPaths(kind, entry.params, path.dirname(source.file));
    const parsed = info.params.safeParse(params);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = ['stages', name, 'params', ...(issue?.path ?? [])];
      const keys = issue?.code === 'unrecognized_keys' ? issue.keys : [];
      if (keys[0] !== undefined) throw source.error([...where, keys[0]], `unknown parameter of ${kind}`, 'key');
      throw source.error(where, issue?.message ?? 'invalid');
    }
    return { name, kind, needs: entry.needs, params, resources: entry.resources ?? info.resources };
  });
  const ordered = checkPipelineRules(stages, source);
  const name = raw.name ?? path.basename(source.file).replace(/\.ya?ml$/, '');
  return { file: source.file, name, stages: ordered };
}

/** Data folders and weight files are written relative to the pipeline file; the planner sees absolute paths. */
export function resolveDataPaths(
  kind: string,
  params: Record<string, unknown>,
  baseDir: string,
): Record<string, unknown> {
  if (kind === 'train' && typeof params.pretrained === 'string') {
    return { ...params, pretrained: path.resolve(baseDir, params.pretrained) };
  }
  if (kind !== 'ingest' || typeof params.dataDir !== 'string') return params;
  return { ...params, dataDir: path.resolve(baseDir, params.dataDir) };
}
