import { cpSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import {
  completions,
  queueFlags,
  queueProject,
  trialsOf,
  useCliProcesses,
  workerFlags,
} from '../../helpers/queue-harness.js';
import { stageFixtures } from '../../helpers/stage-fixtures.js';
import { ROOT, tempDir } from '../../helpers/temp-project.js';

const redisUrl = inject('redisUrl');
const { launch, startWorkers } = useCliProcesses();
const fixtures = stageFixtures({ '*': 'succeed' });

/**
 * A copy of the built tool whose split stage is one code version older, as a worker not yet updated would run:
 * the same dist/ with `split` at version 1 in its catalogue (this checkout's is 2), next to the same packages.
 */
function olderBuild(): string {
  const dir = tempDir('pipeline-older-');
  cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
  for (const name of ['node_modules', 'test', 'package.json']) symlinkSync(path.join(ROOT, name), path.join(dir, name));
  const catalog = path.join(dir, 'dist', 'stages', 'catalog.js');
  const text = readFileSync(catalog, 'utf8');
  const older = text.replace(/(kind: 'split',\s*version: )'2'/, "$1'1'");
  expect(older).not.toBe(text);
  writeFileSync(catalog, older);
  return path.join(dir, 'dist', 'cli.js');
}

describe('orchestrator and workers of different stage versions', () => {
  it('the older worker refuses the newer stage in one line; the run names it and waits for a current worker', async () => {
    const p = queueProject('  train.optimizer: [adam]\n');
    const old = launch(['worker', ...workerFlags(redisUrl, p), '--workspace', p.ws], {
      env: fixtures,
      cli: olderBuild(),
    });
    await old.waitFor(/serving/);
    const run = launch(['run', p.sweep, ...queueFlags(redisUrl, p), '--json']);
    await old.waitFor(
      /refusing t01\/split: the run's split stage is version 2, this worker's is 1: update this worker\n/,
    );
    await run.waitFor(
      new RegExp(
        `no worker can take queue cpu's jobs \\(prefix ${p.prefix}\\): worker \\S+:\\d+ has stage versions split 1 \\(this run: 2\\); update it to this run's pipeline version; waiting\\n`,
      ),
      20_000,
    );
    const [current] = startWorkers(1, redisUrl, p, fixtures);
    expect(await run.exited).toBe(0);
    expect(trialsOf(run.output()).map((t) => t.state)).toEqual(['done']);
    expect(completions([current?.output() ?? '']).get('t01/split')).toBe(1);
    // The older worker built what it agrees on (ingest) and never the split it would have stored under a wrong key.
    expect(old.output()).toMatch(/✔ t01\/ingest in/);
    expect(old.output()).not.toMatch(/▶ t01\/split/);
    expect(old.output().match(/refusing t01\/split/g)).toHaveLength(1);
  });
});
