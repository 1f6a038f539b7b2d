/**
 * A real `pipeline run` killed with SIGKILL in the middle of training, run again, resumes from its checkpoint and
 * caches exactly what an uninterrupted run caches: the same weights to the bit and the same history.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { copySample, pipelineYaml, ROOT, tempDir, writeFiles } from '../helpers/temp-project.js';

const EPOCHS = 15;

function project(): { sweep: string; ws: string } {
  const dir = tempDir();
  copySample(path.join(dir, 'data'), 20);
  writeFiles(dir, {
    'pipeline.yaml': pipelineYaml('data').replace('epochs: 1', `epochs: ${EPOCHS}`),
    'sweep.yaml': 'pipeline: pipeline.yaml\ngrid:\n  train.optimizer: [adam]\n',
  });
  return { sweep: path.join(dir, 'sweep.yaml'), ws: path.join(dir, 'ws') };
}

/** The committed train node's weights and history. */
function trainOutput(ws: string): { weights: Buffer; history: string } {
  const nodes = path.join(ws, 'nodes');
  const key = readdirSync(nodes).find((name) => existsSync(path.join(nodes, name, 'history.json')));
  if (!key) throw new Error(`no train node in ${nodes}`);
  return {
    weights: readFileSync(path.join(nodes, key, 'model', 'weights.bin')),
    history: readFileSync(path.join(nodes, key, 'history.json'), 'utf8'),
  };
}

/** Starts a run in its own process group and kills the whole group (CLI and stage process) at `epoch`. */
function runKilledAt(sweep: string, ws: string, epoch: number): Promise<void> {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'run', sweep, '--workspace', ws], {
    detached: true,
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes(`train epoch ${epoch}/${EPOCHS}`) && child.pid) process.kill(-child.pid, 'SIGKILL');
    });
    child.on('close', (code, signal) =>
      signal === 'SIGKILL' ? resolve() : reject(new Error(`run ended (${code}) before it was killed:\n${stderr}`)),
    );
  });
}

describe('a run killed with SIGKILL during training', () => {
  it('resumes and caches the same weights and history as a clean run', async () => {
    const clean = project();
    const cleanRun = await runCli(['run', clean.sweep, '--workspace', clean.ws]);
    expect(cleanRun.code, cleanRun.stderr).toBe(0);

    const killed = project();
    await runKilledAt(killed.sweep, killed.ws, 3);
    const checkpoints = readdirSync(path.join(killed.ws, 'checkpoints'), { recursive: true }).map(String);
    expect(checkpoints.some((name) => /epoch-\d{4}$/.test(name))).toBe(true);
    expect(() => trainOutput(killed.ws)).toThrow(/no train node/);

    const resumed = await runCli(['run', killed.sweep, '--workspace', killed.ws, '--verbose']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming from the checkpoint after epoch \d+/);
    const a = trainOutput(clean.ws);
    const b = trainOutput(killed.ws);
    expect(b.history).toEqual(a.history);
    expect(b.weights.equals(a.weights)).toBe(true);
  });
});
