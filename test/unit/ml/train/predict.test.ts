import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/ml/backend.js';
import { classificationReport } from '../../../../src/ml/metrics/classification-report.js';
import { buildBasicCnn } from '../../../../src/ml/models/basic-cnn.js';
import type { ModelMeta } from '../../../../src/ml/train/model-io.js';
import { classifyImages, decide, formatPredictionsCsv } from '../../../../src/ml/train/predict.js';

describe('decide', () => {
  it('two classes: the sigmoid output against the threshold, with the probability of the chosen class', () => {
    const p = Float32Array.from([0.9, 0.2, 0.5, 0.6]);
    expect(decide(p, 4, 2)).toEqual([
      { label: 1, confidence: p[0] },
      { label: 0, confidence: 1 - (p[1] ?? 0) },
      { label: 1, confidence: p[2] },
      { label: 1, confidence: p[3] },
    ]);
    expect(decide(p, 4, 2, 0.7).map((d) => d.label)).toEqual([1, 0, 0, 0]);
  });

  it('more classes: the most probable one, the first on a tie', () => {
    const p = Float32Array.from([0.1, 0.7, 0.2, 0.4, 0.4, 0.2]);
    expect(decide(p, 2, 3)).toEqual([
      { label: 1, confidence: p[1] },
      { label: 0, confidence: p[3] },
    ]);
  });
});

describe('classifyImages', () => {
  const shape: [number, number, number] = [8, 8, 3];
  const meta: ModelMeta = { classes: ['a', 'b', 'c'], shape, model: 'basic-cnn' };
  const images = Uint8Array.from({ length: 5 * 8 * 8 * 3 }, (_, i) => (i * 53) % 256);
  let model: tf.LayersModel;

  beforeAll(async () => {
    await selectBackend('cpu');
    model = buildBasicCnn({ filters: [2, 2, 2], denseUnits: 4, dropout: 0 }, { shape, classCount: 3 });
  });

  it("decides on the model's output for pixels scaled as the family expects, and reports against the truth", async () => {
    const truth = [0, 1, 2, 0, 1];
    const { decisions, report } = await classifyImages(model, meta, images, { truth });
    const output = model.predict(
      tf.tensor4d(
        Float32Array.from(images, (v) => v / 255),
        [5, ...shape],
      ),
    ) as tf.Tensor;
    expect(decisions).toEqual(decide((await output.data()) as Float32Array, 5, 3));
    expect(report).toEqual(
      classificationReport(
        truth,
        decisions.map((d) => d.label),
        meta.classes,
      ),
    );
  });

  it('gives no report without the truth', async () => {
    const { decisions, report } = await classifyImages(model, meta, images);
    expect(decisions).toHaveLength(5);
    expect(report).toBeUndefined();
  });
});

describe('formatPredictionsCsv', () => {
  it('writes one row per image under the header, quoting file names that need it', () => {
    const csv = formatPredictionsCsv([
      { file: 'a/1.jpg', truth: 'with_mask', predicted: 'with_mask', confidence: 0.98765 },
      { file: 'b/x,"y".jpg', truth: '', predicted: 'without_mask', confidence: 0.5 },
    ]);
    expect(csv).toBe(
      'file,truth,predicted,confidence\na/1.jpg,with_mask,with_mask,0.9877\n"b/x,""y"".jpg",,without_mask,0.5000\n',
    );
  });
});
