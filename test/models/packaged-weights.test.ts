import * as tf from '@tensorflow/tfjs';
import { MobileNetV2Model } from 'nsfwjs/models/mobilenet_v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/ml/backend.js';
import { MODEL_CATALOG } from '../../src/ml/models/model-catalog.js';
import { buildModel } from '../../src/ml/models/registry.js';
import { readPackagedWeights, assignWeights } from '../../src/ml/models/weights.js';
import { parseTrainParams } from '../../src/stages/catalog.js';
import { loadPretrained } from '../../src/stages/train-transfer.js';

/** A fixed input: a smooth colour ramp in [0, 1], the range nsfwjs' MobileNetV2 was trained on. */
function rampInput(size: number): tf.Tensor4D {
  return tf.tidy((): tf.Tensor4D => {
    const ramp = tf.linspace(0, 1, size);
    const rows = ramp.reshape([size, 1, 1]).tile([1, size, 1]);
    const cols = ramp.reshape([1, size, 1]).tile([size, 1, 1]);
    const image = tf.concat([rows, cols, rows.mul(cols)], 2);
    return image.reshape([1, size, size, 3]);
  });
}

describe('mobilenetv2 with the weights nsfwjs ships', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });
  afterAll(() => tf.disposeVariables());

  it("gives the same out_relu features as nsfwjs' own model, loaded by tfjs from the package", async () => {
    const json = (await MobileNetV2Model.modelJson()).default;
    const bundles = await Promise.all(MobileNetV2Model.weightBundles.map((load) => load()));
    const data = Buffer.concat(bundles.map((b) => Buffer.from(b.default, 'base64')));
    const reference = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
        weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
      }),
    );
    const referenceFeatures = tf.model({ inputs: reference.inputs, outputs: reference.getLayer('out_relu').output });

    const params = parseTrainParams('mobilenetv2', {});
    const model = await buildModel('mobilenetv2', params, { shape: [224, 224, 3], classCount: 2 });
    await loadPretrained(model, params);
    const ours = tf.model({ inputs: model.inputs, outputs: model.getLayer('out_relu').output });

    const input = rampInput(224);
    const expected = referenceFeatures.predict(input) as tf.Tensor;
    const actual = ours.predict(input) as tf.Tensor;
    expect(actual.shape).toEqual([1, 7, 7, 1280]);
    const scale = expected.abs().max().dataSync()[0] ?? 0;
    expect(scale).toBeGreaterThan(0.1);
    expect(actual.sub(expected).abs().max().dataSync()[0]).toBeLessThan(1e-4 * Math.max(1, scale));
    // Stable known output for the fixed input: the pooled features' sum, as computed when this test was written.
    const pooled = actual.mean([1, 2]).sum().dataSync()[0] ?? NaN;
    expect(pooled).toBeCloseTo(POOLED_SUM, 2);
    tf.dispose([input, expected, actual]);
    model.dispose();
    reference.dispose();
  });

  it('refuses weights whose names do not match, naming them, and sets nothing', async () => {
    const weights = await readPackagedWeights('nsfwjs');
    const config = MODEL_CATALOG.resnet50v2.config.parse({});
    const model = await buildModel('resnet50v2', config, { shape: [32, 32, 3], classCount: 2 });
    const before = model.getLayer('conv1_conv').getWeights()[0]?.dataSync().slice(0, 8);
    expect(() => assignWeights(model, weights, 'backbone', 'nsfwjs weights')).toThrow(
      /^nsfwjs weights: no weights named conv1_conv\/kernel, conv1_conv\/bias, conv2_block1_preact_bn\/gamma \(and \d+ more\); its layer names do not match model 'resnet50v2'$/,
    );
    expect(model.getLayer('conv1_conv').getWeights()[0]?.dataSync().slice(0, 8)).toEqual(before);
    tf.dispose(Object.values(weights));
    model.dispose();
  });
});

const POOLED_SUM = 44.0133;
