import * as tf from '@tensorflow/tfjs';

/** Loss and accuracy of a compiled `model` on `x`/`y` (NaN for an empty set), its scalars freed. */
export async function evaluateLoss(
  model: tf.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor2D,
  batchSize: number,
): Promise<[number, number]> {
  if (x.shape[0] === 0) return [NaN, NaN];
  const outputs = model.evaluate(x, y, { batchSize }) as tf.Scalar[];
  const values = await Promise.all(outputs.map(async (output) => (await output.data())[0] ?? NaN));
  tf.dispose(outputs);
  return [values[0] ?? NaN, values[1] ?? NaN];
}
