import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildJsonSchemas, type JsonSchema } from '../../../src/spec/json-schema.js';
import { ROOT } from '../../helpers/temp-project.js';

const committed = (name: string) => readFileSync(path.join(ROOT, 'schema', `${name}.schema.json`), 'utf8');

/** The shipped YAML files and the schema each must name. */
const shipped = [
  ...readdirSync(path.join(ROOT, 'pipelines')).map((f) => [`pipelines/${f}`, 'pipeline'] as const),
  ...readdirSync(path.join(ROOT, 'experiments/sweeps')).map((f) => [`experiments/sweeps/${f}`, 'sweep'] as const),
].filter(([file]) => file.endsWith('.yaml'));

describe('JSON Schemas for editors', () => {
  const schemas = buildJsonSchemas();

  it('are committed as `npm run schema` writes them (run it after changing a zod schema)', () => {
    expect(committed('pipeline')).toBe(`${JSON.stringify(schemas.pipeline, null, 2)}\n`);
    expect(committed('sweep')).toBe(`${JSON.stringify(schemas.sweep, null, 2)}\n`);
  });

  it('give every stage kind its own params, by stage name or by `uses`', () => {
    const definitions = schemas.pipeline.definitions as Record<string, JsonSchema>;
    expect(Object.keys(definitions).sort()).toEqual(
      ['embed', 'evaluate', 'ingest', 'split', 'synthesize', 'train', 'visualize'].map((k) => `${k}Params`),
    );
    expect(JSON.stringify(definitions.splitParams)).toContain('valFraction');
    const stages = (schemas.pipeline.properties as Record<string, JsonSchema>).stages as JsonSchema;
    const train = (stages.properties as Record<string, JsonSchema>).train as JsonSchema;
    expect(train.else).toEqual({ properties: { params: { $ref: '#/definitions/trainParams' } } });
    expect(JSON.stringify(stages.additionalProperties)).toContain('"const":"visualize"');
  });

  it.each(shipped)('%s opens with the yaml-language-server line naming the %s schema', (file, kind) => {
    const text = readFileSync(path.join(ROOT, file), 'utf8');
    const first = text.split('\n')[0] ?? '';
    const target = /^# yaml-language-server: \$schema=(\S+)$/.exec(first)?.[1];
    expect(target, first).toBeDefined();
    expect(path.resolve(path.dirname(path.join(ROOT, file)), target ?? '')).toBe(
      path.join(ROOT, 'schema', `${kind}.schema.json`),
    );
    expect(parse(text)).toBeTypeOf('object'); // still valid YAML with the comment
  });
});
