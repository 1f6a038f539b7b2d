/** The fixture stages in test/fixtures/stages/. */
export type StageFixture = 'succeed' | 'fail-once' | 'crash' | 'hang' | 'bad-input' | 'slow' | 'leak-tensors';

/**
 * Environment that makes stage processes run fixtures instead of stages: keys are node ids (`t01/train`), stage
 * kinds (`train`) or `*` for every other stage. Give it to the process that starts stage processes (a worker,
 * or `pipeline run` without a queue).
 */
export function stageFixtures(fixtures: Record<string, StageFixture>): Record<string, string> {
  const pairs = Object.entries(fixtures).map(([key, name]) => `${key}=test/fixtures/stages/${name}.ts`);
  return { PIPELINE_STAGE_FIXTURES: pairs.join(',') };
}
