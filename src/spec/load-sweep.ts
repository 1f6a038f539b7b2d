import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { PipelineError } from '../errors.js';
import type { Override, SweepSpec } from '../types.js';
import { EarlyStopFileSchema, normalizeEarlyStop } from './early-stop-spec.js';
import { loadPipeline } from './load-pipeline.js';
import { checkObjectiveMetric } from './objective-rules.js';
import { checkOverridePath, resolveStageParams } from './overrides.js';
import { DEFAULT_MAX_TRIALS, checkTrialLimit, countTrials } from './trial-limit.js';
import { parseWith, readYamlSource } from './yaml-source.js';

/** The sweep file as written. */
export const SweepFileSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[^./\\][^/\\]*$/, "a sweep name names files in the workspace: no '/' or '\\', and not starting with '.'")
    .optional()
    .describe('Defaults to the file name.'),
  description: z.string().optional(),
  pipeline: z.string().min(1).describe('Pipeline file, relative to this sweep file.'),
  method: z.enum(['grid', 'random']).default('grid').describe('grid: every combination; random: `samples` of them.'),
  samples: z.number().int().positive().optional().describe('Trials drawn when method is random.'),
  seed: z.number().int().nonnegative().default(0).describe('Seed of the random method.'),
  grid: z
    .record(z.string(), z.array(z.unknown()).min(1, 'needs at least one value'))
    .refine((grid) => Object.keys(grid).length > 0, 'the grid is empty; give at least one stage.param: [values]')
    .describe('Dot-path (stage.param) → values.'),
  set: z.record(z.string(), z.unknown()).default({}).describe('Fixed overrides for every trial (stage.param: value).'),
  objective: z
    .strictObject({
      metric: z.string().min(1).describe('A metric some stage reports, e.g. val_accuracy.'),
      goal: z.enum(['maximize', 'minimize']).default('maximize'),
    })
    .default({ metric: 'val_accuracy', goal: 'maximize' }),
  maxParallel: z.number().int().positive().optional().describe('Upper bound on trials running at once.'),
  maxTrials: z
    .number()
    .int()
    .positive()
    .optional()
    .describe(
      `Refuse a grid that expands to more trials than this (default ${DEFAULT_MAX_TRIALS}; --max-trials wins).`,
    ),
  early_stop: EarlyStopFileSchema.optional(),
});

/** Resolves a sweep argument: as given (against the cwd), then under `experiments/`. */
export function resolveSweepPath(arg: string, cwd = process.cwd()): string {
  const candidates = [path.resolve(cwd, arg), path.resolve(cwd, 'experiments', arg)];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) throw new PipelineError('SPEC_NOT_FOUND', `sweep file ${arg}: not found (looked in . and experiments/)`);
  return found;
}

export interface LoadSweepOptions {
  /** Most trials the grid may expand to; overrides the file's `maxTrials` (default {@link DEFAULT_MAX_TRIALS}). */
  maxTrials?: number;
}

/** Reads a sweep file and its pipeline, checks every grid key and override, returns the validated sweep. */
export async function loadSweep(
  arg: string,
  extraOverrides: readonly Override[] = [],
  options: LoadSweepOptions = {},
): Promise<SweepSpec> {
  const file = resolveSweepPath(arg);
  const source = await readYamlSource(file, 'sweep file');
  const raw = parseWith(source, SweepFileSchema);
  if (raw.method === 'random' && raw.samples === undefined) {
    throw source.error(['samples'], 'method: random needs samples: <number of trials>');
  }
  const counts = Object.values(raw.grid).map((values) => values.length);
  const limit = options.maxTrials ?? raw.maxTrials ?? DEFAULT_MAX_TRIALS;
  checkTrialLimit(
    source,
    countTrials(counts, raw.method === 'random' ? raw.samples : undefined),
    limit,
    options.maxTrials !== undefined,
  );
  const pipelineFile = path.resolve(path.dirname(file), raw.pipeline);
  if (!existsSync(pipelineFile)) throw source.error(['pipeline'], `pipeline file ${pipelineFile} not found`);
  const pipeline = await loadPipeline(pipelineFile);
  const baseDir = path.dirname(file);
  // Only an objective the file names is checked: the default (val_accuracy) may meet a pipeline without a trainer.
  const named = typeof source.data === 'object' && source.data !== null && 'objective' in source.data;
  const objectiveError = named && checkObjectiveMetric(raw.objective.metric, pipeline);
  if (objectiveError) throw source.error(['objective', 'metric'], objectiveError);
  const earlyStop = raw.early_stop && normalizeEarlyStop(raw.early_stop, raw.objective, pipeline, source);

  const grid = Object.entries(raw.grid).map(([key, values]) => {
    const target = checkOverridePath(pipeline, key);
    if (typeof target === 'string') throw source.error(['grid', key], target);
    return { path: key, values, origins: values.map((_, index) => source.locate(['grid', key, index])) };
  });
  const fixed: Override[] = Object.entries(raw.set).map(([key, value]) => {
    const target = checkOverridePath(pipeline, key);
    if (typeof target === 'string') throw source.error(['set', key], target);
    return { path: key, value, origin: source.locate(['set', key]), baseDir };
  });
  const overrides = [...fixed, ...extraOverrides];
  // Validate every grid value once, alone on top of the fixed overrides, so a bad value names its own line.
  resolveStageParams(pipeline, overrides);
  for (const dimension of grid) {
    dimension.values.forEach((value, index) => {
      const origin = dimension.origins[index] ?? file;
      resolveStageParams(pipeline, [...overrides, { path: dimension.path, value, origin, baseDir }]);
    });
  }
  return {
    file,
    name: raw.name ?? path.basename(file).replace(/\.ya?ml$/, ''),
    pipeline,
    method: raw.method,
    grid,
    samples: raw.samples,
    seed: raw.seed,
    objective: raw.objective,
    maxParallel: raw.maxParallel,
    ...(earlyStop ? { earlyStop } : {}),
    overrides,
  };
}
