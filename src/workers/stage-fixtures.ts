import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PipelineError } from '../errors.js';
import type { StageRun } from '../stages/stage-context.js';
import type { StageJob } from './stage-job.js';

/**
 * For tests only: names fixture modules that stand in for stage implementations, so a test can make a stage
 * succeed at once, fail, crash or hang. Comma-separated `key=file` pairs; a key is a node id (`t01/train`), a
 * stage kind (`train`) or `*` (every other stage); a file is a path inside the repository's test/fixtures/stages/
 * exporting `run`. Read in the stage process; nothing in the tool sets it.
 */
export const STAGE_FIXTURES_ENV = 'PIPELINE_STAGE_FIXTURES';

// This file is in src/workers/ or dist/workers/; either way the repository is two folders up.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE_DIR = path.join(ROOT, 'test', 'fixtures', 'stages');

/** The fixture standing in for this node's stage, or undefined (the usual case) to run the real one. */
export async function loadStageFixture(
  job: Pick<StageJob, 'nodeId' | 'kind'>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<StageRun<never> | undefined> {
  const setting = env[STAGE_FIXTURES_ENV];
  if (!setting) return undefined;
  const files = new Map<string, string>();
  for (const pair of setting.split(',')) {
    const [key, file] = pair.split('=').map((part) => part.trim());
    if (!key || !file) throw new PipelineError('USAGE', `${STAGE_FIXTURES_ENV}: '${pair}' is not key=file`);
    files.set(key, file);
  }
  const file = files.get(job.nodeId) ?? files.get(job.kind) ?? files.get('*');
  if (file === undefined) return undefined;
  const module = (await importTypeScript(fixturePath(file))) as { run?: unknown };
  if (typeof module.run !== 'function') {
    throw new PipelineError('USAGE', `${STAGE_FIXTURES_ENV}: ${file} does not export a run function`);
  }
  return module.run as StageRun<never>;
}

/** The fixture's real path; anything outside test/fixtures/stages/ is refused. */
function fixturePath(file: string): string {
  const resolved = path.resolve(ROOT, file);
  const inside = existsSync(resolved) && realpathSync(resolved).startsWith(realpathSync(FIXTURE_DIR) + path.sep);
  if (!inside) {
    throw new PipelineError('USAGE', `${STAGE_FIXTURES_ENV}: ${file} is not a file in ${FIXTURE_DIR}`);
  }
  return realpathSync(resolved);
}

// Fixtures are TypeScript; the built tool runs on plain node, so they load through tsx (a dev dependency).
async function importTypeScript(file: string): Promise<unknown> {
  const { tsImport } = await import('tsx/esm/api');
  return (await tsImport(pathToFileURL(file).href, import.meta.url)) as unknown;
}
