import { describe, expect, it } from 'vitest';
import { loadStageFixture, STAGE_FIXTURES_ENV } from '../../../src/workers/stage-fixtures.js';

const env = (setting: string) => ({ [STAGE_FIXTURES_ENV]: setting });
const train = { nodeId: 't01/train', kind: 'train' } as const;

describe('stage fixtures for tests', () => {
  it('are off unless the variable names one for the node, its kind or *', async () => {
    expect(await loadStageFixture(train, {})).toBeUndefined();
    expect(await loadStageFixture(train, env('ingest=test/fixtures/stages/crash.ts'))).toBeUndefined();
  });

  it('prefer the node id over the kind over *', async () => {
    const setting = env(
      '*=test/fixtures/stages/succeed.ts,train=test/fixtures/stages/crash.ts,t01/train=test/fixtures/stages/hang.ts',
    );
    // Each fixture's source says which it is.
    const source = async (job: { nodeId: string; kind: 'train' | 'split' }) =>
      (await loadStageFixture(job, setting))?.toString();
    expect(await source(train)).toContain('until aborted');
    expect(await source({ nodeId: 't02/train', kind: 'train' })).toContain('SIGKILL');
    expect(await source({ nodeId: 'split', kind: 'split' })).toContain('fixture.json');
  });

  it.each([
    ['a stage of the tool', 'train=src/stages/train.ts'],
    ['a path climbing out', 'train=test/fixtures/stages/../../../src/cli.ts'],
    ['a file elsewhere', 'train=/etc/hostname'],
    ['a missing fixture', 'train=test/fixtures/stages/nope.ts'],
  ])('refuse %s', async (_label, setting) => {
    const error = await loadStageFixture(train, env(setting)).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'USAGE' });
    expect((error as Error).message).toMatch(/^PIPELINE_STAGE_FIXTURES: .* is not a file in .*test\/fixtures\/stages$/);
  });

  it('refuse a setting that is not key=file pairs', async () => {
    await expect(loadStageFixture(train, env('train'))).rejects.toMatchObject({ code: 'USAGE' });
  });
});
