/**
 * Writes schema/pipeline.schema.json and schema/sweep.schema.json from the zod schemas (`npm run schema`). The YAML
 * files under pipelines/ and experiments/ point their editors at them; a test fails when they are out of date.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildJsonSchemas } from '../src/spec/json-schema.js';

const dir = path.resolve(import.meta.dirname, '..', 'schema');
mkdirSync(dir, { recursive: true });
for (const [name, schema] of Object.entries(buildJsonSchemas())) {
  const file = path.join(dir, `${name}.schema.json`);
  writeFileSync(file, `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}
