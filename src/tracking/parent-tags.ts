import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SweepSpec } from '../types.js';
import { sha256 } from '../util/hash.js';

/**
 * Tags of a sweep's parent run: which files defined it (with the pipeline file's hash), its grid and objective,
 * and MLflow's own source tags (git commit, user, source name) so the UI fills its columns.
 */
export function parentTags(sweep: SweepSpec, command: string): Record<string, string> {
  const tags: Record<string, string> = {
    'pipeline.sweepFile': sweep.file,
    'pipeline.pipelineFile': sweep.pipeline.file,
    'pipeline.pipelineHash': hashFile(sweep.pipeline.file),
    'pipeline.grid': JSON.stringify(Object.fromEntries(sweep.grid.map((dim) => [dim.path, dim.values]))),
    'pipeline.objective': `${sweep.objective.metric} (${sweep.objective.goal})`,
    'mlflow.source.name': command,
    'mlflow.source.type': 'LOCAL',
    'mlflow.user': userName(),
  };
  const commit = gitCommit(path.dirname(sweep.file));
  if (commit) tags['mlflow.source.git.commit'] = commit;
  return tags;
}

function hashFile(file: string): string {
  try {
    return sha256(readFileSync(file, 'utf8'));
  } catch {
    return 'unreadable';
  }
}

function userName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

// A sweep outside a git checkout simply has no commit tag.
function gitCommit(dir: string): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}
