/**
 * A train attempt that stops (a killed worker, a cancel) leaves a checkpoint after its last epoch; the next attempt
 * of the node resumes there instead of starting over. Real stages on real photos, run in this process.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { IngestParamsSchema, SplitParamsSchema, TrainParamsSchema } from '../../../src/stages/catalog.js';
import type { StageKind } from '../../../src/types.js';
import type { StageProgress } from '../../../src/types.js';
import { runStage } from '../../../src/workers/run-stage.js';
import { copySample, tempDir } from '../../helpers/temp-project.js';

process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';

const root = tempDir();
const folder = (name: string) => {
  mkdirSync(path.join(root, name), { recursive: true });
  return path.join(root, name);
};

/** Runs one stage in this process; returns its log lines and progress updates. */
async function stage(
  kind: StageKind,
  params: Record<string, unknown>,
  options: { inputs?: Partial<Record<StageKind, string>>; outDir: string; checkpointDir?: string; stopAfter?: number },
) {
  const logs: string[] = [];
  const epochs: number[] = [];
  const controller = new AbortController();
  const hooks = {
    signal: controller.signal,
    log: (message: string) => void logs.push(message),
    progress: (update: StageProgress) => {
      if (update.epoch !== undefined) epochs.push(update.epoch);
      if (update.epoch === options.stopAfter) controller.abort();
    },
  };
  const job = {
    nodeId: kind,
    kind,
    params,
    inputs: options.inputs ?? {},
    outDir: options.outDir,
    checkpointDir: options.checkpointDir ?? folder(`${kind}-checkpoint`),
    backend: 'auto' as const,
  };
  const error = await runStage(job, hooks).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  return { logs, epochs, error };
}

/** Ingest and split of `perClass` sample images per class at `imageSize`, in folders named with `prefix`. */
async function splitOf(prefix: string, perClass: number, imageSize: number): Promise<{ split: string }> {
  const dataDir = path.join(root, `${prefix}data`);
  copySample(dataDir, perClass);
  const ingest = folder(`${prefix}ingest`);
  await stage('ingest', IngestParamsSchema.parse({ dataDir, imageSize }), { outDir: ingest });
  const split = folder(`${prefix}split`);
  await stage('split', SplitParamsSchema.parse({ valFraction: 0.25, seed: 1 }), { inputs: { ingest }, outDir: split });
  return { split };
}

/** A finished train's weight bytes and history text. */
function output(dir: string) {
  return {
    weights: readFileSync(path.join(dir, 'model', 'weights.bin')),
    history: readFileSync(path.join(dir, 'history.json'), 'utf8'),
  };
}

describe('train resumes from its checkpoint', () => {
  const inputs = splitOf('', 12, 16);

  it('an attempt stopped after epoch 2 of 4: the next one trains epochs 3 and 4 only, and records all four', async () => {
    const params = TrainParamsSchema.parse({ filters: [2, 4, 4], denseUnits: 8, epochs: 4, batchSize: 8 });
    const checkpointDir = folder('train-checkpoint');

    const first = await stage('train', params, {
      inputs: await inputs,
      outDir: folder('train-1'),
      checkpointDir,
      stopAfter: 2,
    });
    expect(first.error).toMatchObject({ code: 'CANCELLED' });
    expect(first.epochs).toEqual([1, 2]);
    expect(readdirSync(checkpointDir)).toEqual(['epoch-0002']);

    const outDir = folder('train-2');
    const second = await stage('train', params, { inputs: await inputs, outDir, checkpointDir });
    expect(second.error).toBeUndefined();
    expect(second.logs).toContain('resuming from the checkpoint after epoch 2');
    expect(second.epochs).toEqual([3, 4]);
    const history = JSON.parse(readFileSync(path.join(outDir, 'history.json'), 'utf8')) as { epoch: number }[];
    expect(history.map((row) => row.epoch)).toEqual([1, 2, 3, 4]);
  });

  // The optimizer's slots, iteration count and Adam's running beta powers are part of the checkpoint: without them
  // the resumed epochs take different steps and the weights (and often the best trial) differ from a clean run's.
  it.each(['adam', 'rmsprop', 'sgd'])(
    '%s: stopped after epoch 1 and resumed = bit-identical to a clean run',
    async (optimizer) => {
      const params = TrainParamsSchema.parse({
        filters: [2, 4, 4],
        denseUnits: 8,
        epochs: 3,
        batchSize: 8,
        optimizer,
        lr: 0.01,
      });
      const clean = folder(`clean-${optimizer}`);
      expect(
        (
          await stage('train', params, {
            inputs: await inputs,
            outDir: clean,
            checkpointDir: folder(`clean-checkpoint-${optimizer}`),
          })
        ).error,
      ).toBeUndefined();
      const checkpointDir = folder(`checkpoint-${optimizer}`);
      const stopped = await stage('train', params, {
        inputs: await inputs,
        outDir: folder(`stopped-${optimizer}`),
        checkpointDir,
        stopAfter: 1,
      });
      expect(stopped.error).toMatchObject({ code: 'CANCELLED' });
      const resumed = folder(`resumed-${optimizer}`);
      expect(
        (await stage('train', params, { inputs: await inputs, outDir: resumed, checkpointDir })).error,
      ).toBeUndefined();
      expect(output(resumed).history).toEqual(output(clean).history);
      expect(output(resumed).weights.equals(output(clean).weights)).toBe(true);
    },
  );
});

describe('transfer training resumes exactly too', () => {
  const inputs = splitOf('transfer-', 8, 32);
  const base = { model: 'mobilenetv2', inputSize: 32, epochs: 3, batchSize: 4, optimizer: 'adam', lr: 0.01 };
  // The head alone on frozen features (its own optimizer); fine-tuning stopped at the phase switch (a fresh optimizer
  // follows, so none is restored) and inside the fine-tuning phase (its optimizer is restored).
  it.each([
    ['frozen backbone, head on features', { ...base, freeze: 'backbone' }, 1],
    ['fine-tuning, stopped at the phase switch', { ...base, fineTune: { afterEpochs: 1, lrFactor: 0.1 } }, 1],
    ['fine-tuning, stopped while fine-tuning', { ...base, fineTune: { afterEpochs: 1, lrFactor: 0.1 } }, 2],
  ] as const)(
    '%s: resumed = bit-identical to a clean run',
    async (name, raw, stopAfter) => {
      const params = TrainParamsSchema.parse(raw);
      const key = name.replace(/\W+/g, '-');
      const clean = folder(`transfer-clean-${key}`);
      const cleanRun = await stage('train', params, {
        inputs: await inputs,
        outDir: clean,
        checkpointDir: folder(`transfer-clean-checkpoint-${key}`),
      });
      expect(cleanRun.error).toBeUndefined();
      const checkpointDir = folder(`transfer-checkpoint-${key}`);
      const stopped = await stage('train', params, {
        inputs: await inputs,
        outDir: folder(`transfer-stopped-${key}`),
        checkpointDir,
        stopAfter,
      });
      expect(stopped.error).toMatchObject({ code: 'CANCELLED' });
      const resumed = folder(`transfer-resumed-${key}`);
      const resumedRun = await stage('train', params, { inputs: await inputs, outDir: resumed, checkpointDir });
      expect(resumedRun.error).toBeUndefined();
      expect(resumedRun.logs).toContain(`resuming from the checkpoint after epoch ${stopAfter}`);
      expect(output(resumed).history).toEqual(output(clean).history);
      expect(output(resumed).weights.equals(output(clean).weights)).toBe(true);
    },
    120_000,
  );
});
