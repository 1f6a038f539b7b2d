/**
 * A frozen-backbone trial trains only the head: on features from the shared `embed` node or computed in the trial,
 * with the same result, and not one backbone weight (batch-norm statistics included) changes. Real stages on real
 * photos, run in this process.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../../src/ml/models/registry.js';
import { loadModel } from '../../../src/ml/train/model-io.js';
import {
  IngestParamsSchema,
  SplitParamsSchema,
  backboneTraining,
  parseTrainParams,
} from '../../../src/stages/catalog.js';
import { loadPretrained } from '../../../src/stages/train-transfer.js';
import type { StageKind } from '../../../src/types.js';
import { runStage } from '../../../src/workers/run-stage.js';
import { copySample, tempDir } from '../../helpers/temp-project.js';

process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';

const root = tempDir();
const folder = (name: string) => {
  mkdirSync(path.join(root, name), { recursive: true });
  return path.join(root, name);
};

async function stage(kind: StageKind, params: object, inputs: Partial<Record<StageKind, string>>, outDir: string) {
  const logs: string[] = [];
  const hooks = { signal: new AbortController().signal, log: (m: string) => void logs.push(m), progress: () => {} };
  const job = {
    nodeId: kind,
    kind,
    params,
    inputs,
    outDir,
    checkpointDir: folder(`${kind}-cp-${path.basename(outDir)}`),
  };
  await runStage({ ...job, params: params as Record<string, unknown>, backend: 'auto' as const }, hooks);
  return logs;
}

describe('frozen backbone', () => {
  it('trains the head only, on embed features or its own, to the same result; no backbone weight moves', async () => {
    copySample(path.join(root, 'data'), 10);
    const ingest = folder('ingest');
    await stage('ingest', IngestParamsSchema.parse({ dataDir: path.join(root, 'data'), imageSize: 32 }), {}, ingest);
    const split = folder('split');
    await stage('split', SplitParamsSchema.parse({ valFraction: 0.3, seed: 1 }), { ingest }, split);
    const params = parseTrainParams('mobilenetv2', { inputSize: 48, epochs: 2, batchSize: 4, lr: 0.01 });
    const how = backboneTraining(params);
    if (!how || !('embed' in how)) throw new Error('expected a head-only plan');

    const embed = folder('embed');
    await stage('embed', how.embed, { split }, embed);
    const withEmbed = folder('train-embed');
    const logs = await stage('train', params, { split, embed }, withEmbed);
    expect(logs.join('\n')).not.toMatch(/computing frozen/);
    const alone = folder('train-alone');
    expect((await stage('train', params, { split }, alone)).join('\n')).toMatch(
      /computing frozen mobilenetv2 features/,
    );
    const history = (dir: string) => readFileSync(path.join(dir, 'history.json'), 'utf8');
    expect(history(withEmbed)).toEqual(history(alone));

    const trained = await loadModel(path.join(withEmbed, 'model'));
    const start = await buildModel('mobilenetv2', params, { shape: [48, 48, 3], classCount: 2 });
    await loadPretrained(start, params);
    const head = trained.layers.findIndex((layer) => layer.name === 'avg_pool');
    let compared = 0;
    for (const layer of trained.layers.slice(0, head)) {
      const before = start.getLayer(layer.name).getWeights();
      layer.getWeights().forEach((weight, i) => {
        expect(weight.dataSync()).toEqual(before[i]?.dataSync());
        compared++;
      });
    }
    expect(compared).toBe(start.layers.slice(0, head).flatMap((layer) => layer.getWeights()).length);
    expect(compared).toBeGreaterThan(200);
    // The head did train.
    const kernel = (model: tf.LayersModel) =>
      Array.from(model.getLayer('predictions').getWeights()[0]?.dataSync() ?? []);
    expect(kernel(trained)).not.toEqual(kernel(start));
    trained.dispose();
    start.dispose();
  });
});
