import { z } from 'zod';
import { STAGES } from '../stages/catalog.js';
import { STAGE_KINDS, type StageKind } from '../types.js';
import { PipelineFileSchema } from './load-pipeline.js';
import { SweepFileSchema } from './load-sweep.js';

const DRAFT_7 = 'http://json-schema.org/draft-07/schema#';

/** A JSON Schema document (draft-07, what YAML editors' language servers read). */
export type JsonSchema = Record<string, unknown>;

const toJson = (schema: z.ZodType): JsonSchema => {
  const json: JsonSchema = z.toJSONSchema(schema, { io: 'input', target: 'draft-7', unrepresentable: 'any' });
  delete json.$schema; // only the document's root names the draft
  return json;
};

/**
 * JSON Schemas of the pipeline and sweep files, from the same zod schemas that validate them, for editors
 * (`# yaml-language-server: $schema=…` at the top of a YAML file). A stage's `params` are checked against its kind's
 * schema: the kind is the stage's name or its `uses`. Cross-field rules (needs that exist, grid keys that name a
 * parameter) stay with `pipeline plan`.
 */
export function buildJsonSchemas(): { pipeline: JsonSchema; sweep: JsonSchema } {
  const pipeline = toJson(PipelineFileSchema);
  const stages = (pipeline.properties as Record<string, JsonSchema>).stages ?? {};
  const entry = (stages.additionalProperties ?? {}) as JsonSchema;
  const definitions = Object.fromEntries(STAGE_KINDS.map((kind) => [`${kind}Params`, toJson(STAGES[kind].params)]));
  const paramsOf = (kind: StageKind): JsonSchema => ({
    properties: { params: { $ref: `#/definitions/${kind}Params` } },
  });
  const byUses: JsonSchema[] = STAGE_KINDS.map((kind) => ({
    if: { properties: { uses: { const: kind } }, required: ['uses'] },
    then: paramsOf(kind),
  }));
  // A stage named after its kind (ingest, train, ...) without `uses` gets that kind's params; `uses` decides otherwise.
  stages.properties = Object.fromEntries(
    STAGE_KINDS.map((kind) => [
      kind,
      { ...entry, if: { required: ['uses'] }, then: { allOf: byUses }, else: paramsOf(kind) },
    ]),
  );
  stages.additionalProperties = { ...entry, allOf: byUses };
  return {
    pipeline: { $schema: DRAFT_7, title: 'pipeline file', ...pipeline, definitions },
    sweep: { $schema: DRAFT_7, title: 'sweep file', ...toJson(SweepFileSchema) },
  };
}
