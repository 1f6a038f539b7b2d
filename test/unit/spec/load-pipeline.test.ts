import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PipelineError } from '../../../src/errors.js';
import { loadPipeline } from '../../../src/spec/load-pipeline.js';
import { pipelineYaml, tempDir, writeFiles } from '../../helpers/temp-project.js';

const good = pipelineYaml('data');

describe('pipeline file errors name the file, line, column and dot-path', () => {
  it.each([
    ['YAML syntax error', good.replace('needs: [ingest]', 'needs: [ingest'), /pipeline\.yaml:\d+:\d+: YAML syntax/],
    ['unknown key', good.replace('name: tiny', 'name: tiny\nstagez: {}'), /pipeline\.yaml:2:1: stagez: unknown key/],
    [
      'wrong type',
      good.replace('epochs: 1', 'epochs: one'),
      /pipeline\.yaml:13:15: stages\.train\.params\.epochs: .*number/,
    ],
    [
      'unknown stage in needs',
      good.replace('needs: [train, split]', 'needs: [train, spilt]'),
      /:16:20: stages\.evaluate\.needs\.1: unknown stage 'spilt'/,
    ],
    [
      'duplicate stage name',
      `${good}  split:\n    needs: [ingest]\n`,
      /pipeline\.yaml:\d+:\d+: YAML syntax: Map keys must be unique/,
    ],
    ['lr ≤ 0', good.replace('epochs: 1', 'epochs: 1\n      lr: 0'), /stages\.train\.params\.lr: must be > 0/],
    [
      'unknown optimizer',
      good.replace('epochs: 1', 'epochs: 1\n      optimizer: adagrad'),
      /stages\.train\.params\.optimizer: .*"sgd"\|"adam"\|"rmsprop"/,
    ],
    [
      'unknown model family',
      good.replace('epochs: 1', 'epochs: 1\n      model: resnet9'),
      /pipeline\.yaml:14:14: stages\.train\.params\.model: Invalid option: expected one of "basic-cnn"(\|"[a-z0-9-]+")+$/,
    ],
    [
      'a family config key of the wrong type',
      good.replace('denseUnits: 8', 'denseUnits: many'),
      /pipeline\.yaml:12:19: stages\.train\.params\.denseUnits: .*number/,
    ],
    [
      'batchSize not a positive integer',
      good.replace('batchSize: 8', 'batchSize: 2.5'),
      /:14:18: stages\.train\.params\.batchSize: must be a positive integer/,
    ],
    [
      'valFraction outside (0,1)',
      good.replace('valFraction: 0.25', 'valFraction: 1.5'),
      /stages\.split\.params\.valFraction: must be in \(0, 1\)/,
    ],
    [
      'unknown parameter',
      good.replace('epochs: 1', 'epochs: 1\n      epoch: 2'),
      /stages\.train\.params\.epoch: unknown parameter of train/,
    ],
    [
      'stage without an input it reads',
      good.replace('needs: [train, split]', 'needs: [train]'),
      /stages\.evaluate\.needs: evaluate reads the output of a split stage/,
    ],
  ])('%s', async (_name, pipeline, expected) => {
    const dir = writeFiles(tempDir(), { 'pipeline.yaml': pipeline });
    const error: unknown = await loadPipeline(path.join(dir, 'pipeline.yaml')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PipelineError);
    expect((error as PipelineError).code).toBe('SPEC_INVALID');
    expect((error as Error).message).toMatch(expected);
  });

  it('reports a dependency cycle with its path', async () => {
    const cyclic = good.replace('needs: [ingest]', 'needs: [ingest, visualize]');
    const dir = writeFiles(tempDir(), { 'pipeline.yaml': cyclic });
    const error = (await loadPipeline(path.join(dir, 'pipeline.yaml')).catch((e: unknown) => e)) as PipelineError;
    expect(error.code).toBe('DAG_CYCLE');
    expect(error.message).toMatch(/pipeline\.yaml:\d+:\d+: stages: dependency cycle (\w+ → )+\w+/);
  });

  it('accepts a synthesize stage between ingest and split', async () => {
    const withSynth = good.replace(
      '  split:\n    needs: [ingest]',
      '  synthesize:\n    needs: [ingest]\n    params: { sources: [without_mask], variants: { proper: with_mask } }\n  split:\n    needs: [synthesize]',
    );
    const dir = writeFiles(tempDir(), { 'pipeline.yaml': withSynth });
    const spec = await loadPipeline(path.join(dir, 'pipeline.yaml'));
    expect(spec.stages.map((s) => s.name).slice(0, 3)).toEqual(['ingest', 'synthesize', 'split']);
  });

  it('resolves dataDir relative to the pipeline file and orders stages by needs', async () => {
    const dir = writeFiles(tempDir(), { 'pipeline.yaml': good });
    const spec = await loadPipeline(path.join(dir, 'pipeline.yaml'));
    expect(spec.stages.map((s) => s.name)).toEqual(['ingest', 'split', 'train', 'evaluate', 'visualize']);
    expect(spec.stages[0]?.params.dataDir).toBe(path.join(dir, 'data'));
    expect(spec.stages.find((s) => s.name === 'train')?.resources).toEqual({ gpu: 1 });
  });
});
