import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { PipelineError } from '../errors.js';

/** What one MLflow server already holds of a workspace's journal. */
export interface SinkState {
  uri: string;
  /** Journal records handled (sent, or set aside in `rejected`), counted from the start. */
  cursor: number;
  /** Journal run id → the MLflow run it became. */
  runs: Record<string, { runId: string; experimentId: string; artifactUri: string }>;
  /** Experiment name → id. */
  experiments: Record<string, string>;
  /** Records the server refused (4xx); the next sync tries them again. */
  rejected: { index: number; error: string }[];
}

/** The state file of one tracking server in a workspace: `tracking/sinks/<hash of the URI>.json`. */
export function sinkStatePath(workspaceRoot: string, uri: string): string {
  const hash = createHash('sha256').update(uri).digest('hex').slice(0, 16);
  return path.join(workspaceRoot, 'tracking', 'sinks', `${hash}.json`);
}

/** Reads a sink's state, or a fresh one. */
export function loadSinkState(file: string, uri: string): SinkState {
  if (!existsSync(file)) return { uri, cursor: 0, runs: {}, experiments: {}, rejected: [] };
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SinkState;
  } catch {
    throw new PipelineError(
      'STORE_INVALID',
      `${file} is damaged; remove it and run \`pipeline sync\` again (runs already in MLflow are found by their pipeline.localRunId tag, not duplicated)`,
    );
  }
}

/** Writes the state atomically (temp file + rename), so a crash leaves the old or the new state, never half. */
export function saveSinkState(file: string, state: SinkState): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(state));
  renameSync(temp, file);
}

/** Every sink state in a workspace, for showing which runs reached which server. */
export function listSinkStates(workspaceRoot: string): SinkState[] {
  const dir = path.join(workspaceRoot, 'tracking', 'sinks');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .flatMap((name) => {
      try {
        return [JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as SinkState];
      } catch {
        return [];
      }
    });
}

/**
 * Takes the sink's lock file so two processes never replay the same journal to the same server at once (they
 * could both create a run). A lock left by a process that no longer exists is taken over.
 */
export function acquireSinkLock(stateFile: string): () => void {
  const lock = `${stateFile}.lock`;
  mkdirSync(path.dirname(lock), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(lock, 'utf8'));
      if (isAlive(holder) && holder !== process.pid) {
        throw new PipelineError(
          'TRACKING_UNAVAILABLE',
          `another pipeline process (pid ${holder}) is sending this workspace's journal to the same server; wait for it, or remove ${lock} if it is gone`,
        );
      }
      rmSync(lock, { force: true });
    }
  }
  throw new PipelineError('TRACKING_UNAVAILABLE', `could not take the lock ${lock}`);
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
