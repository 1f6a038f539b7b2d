import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PipelineError } from '../../../src/errors.js';
import { loadSweep, type LoadSweepOptions } from '../../../src/spec/load-sweep.js';
import { countTrials } from '../../../src/spec/trial-limit.js';
import { planSweep } from '../../../src/plan/plan-sweep.js';
import { pipelineYaml, tempDir, writeFiles } from '../../helpers/temp-project.js';

const values = (count: number) => `[${Array.from({ length: count }, (_, i) => i + 1).join(', ')}]`;

/** A sweep of `seeds` × `epochs` trials over the tiny test pipeline, with extra sweep-file lines. */
async function load(seeds: number, epochs: number, extra = '', options: LoadSweepOptions = {}) {
  const sweep = `pipeline: pipeline.yaml\n${extra}grid:\n  train.seed: ${values(seeds)}\n  train.epochs: ${values(epochs)}\n`;
  const dir = writeFiles(tempDir(), { 'pipeline.yaml': pipelineYaml('data'), 'sweep.yaml': sweep });
  return loadSweep(path.join(dir, 'sweep.yaml'), [], options).then(
    (spec) => spec,
    (error: unknown) => error as PipelineError,
  );
}

describe('maxTrials', () => {
  it('counts the grid product, or the samples drawn from it', () => {
    expect(countTrials([3, 2, 2])).toBe(12);
    expect(countTrials([100, 100, 100], 50)).toBe(50);
    expect(countTrials([2, 2], 50)).toBe(4);
  });

  it('refuses a grid above 10,000 trials by default, in one line naming the sweep file', async () => {
    const error = await load(101, 100);
    expect(error).toBeInstanceOf(PipelineError);
    expect((error as PipelineError).code).toBe('SPEC_INVALID');
    expect((error as PipelineError).message).toMatch(
      /sweep\.yaml:\d+:\d+: grid: the grid expands to 10,100 trials, more than maxTrials 10,000; .*--max-trials N$/,
    );
    expect((error as PipelineError).message).not.toContain('\n');
    expect(await load(100, 100)).not.toBeInstanceOf(PipelineError);
  });

  it('takes a limit from the sweep file, and --max-trials over it', async () => {
    expect(await load(101, 100, 'maxTrials: 20000\n')).not.toBeInstanceOf(PipelineError);
    expect(await load(3, 4, 'maxTrials: 10\n')).toBeInstanceOf(PipelineError);
    expect(await load(3, 4, 'maxTrials: 10\n', { maxTrials: 12 })).not.toBeInstanceOf(PipelineError);
    const fromFlag = await load(101, 100, 'maxTrials: 20000\n', { maxTrials: 5 });
    expect((fromFlag as PipelineError).message).toMatch(/more than maxTrials 5; .*a larger --max-trials$/);
  });

  it('counts the samples of a random sweep, not its grid', async () => {
    expect(await load(200, 200, 'method: random\nsamples: 10\n')).not.toBeInstanceOf(PipelineError);
  });
});

describe('planning a large grid', () => {
  it('plans 10^4 trials with the shared stages once and one branch per trial', async () => {
    const sweep = await load(100, 100);
    if (sweep instanceof PipelineError) throw sweep;
    const plan = planSweep(sweep);
    expect(plan.trials).toHaveLength(10_000);
    const byStage = (stage: string) => plan.nodes.filter((node) => node.stage === stage);
    expect(byStage('ingest')).toHaveLength(1);
    expect(byStage('split')).toHaveLength(1);
    expect(byStage('train')).toHaveLength(10_000);
    expect(byStage('split')[0]?.trials).toHaveLength(10_000);
    const train = byStage('train')[0]!;
    expect(train.needs).toEqual(['split']);
  });
});
