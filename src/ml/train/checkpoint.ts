import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { checkpointFolderName, type SavedCheckpoint, type TrainingState } from './checkpoint-files.js';
import { loadModel, saveModel } from './model-io.js';

interface OptimizerFile {
  /** tfjs' own optimizer weights (the iteration count first, then its slots), by name and shape. */
  weights: { name: string; shape: number[]; dtype: tf.DataType }[];
  /**
   * Scalars an optimizer keeps beside its slots: Adam's running powers of beta1/beta2. tfjs' `setWeights` recomputes
   * them with `pow`, which can differ in the last bit from the product an uninterrupted run accumulates.
   */
  extra: Record<string, number>;
}

const EXTRA_SCALARS = ['accBeta1', 'accBeta2'] as const;

/**
 * Saves a checkpoint after `state.epoch`: weights, optimizer slots and iteration, and the training state. It is
 * written into a fresh folder and renamed to `epoch-NNNN` in one step, so a killed writer leaves either the previous
 * checkpoint or this one, never half of one; older checkpoints are removed after.
 */
export async function saveTrainingCheckpoint<Row>(
  dir: string,
  model: tf.LayersModel,
  state: TrainingState<Row>,
): Promise<void> {
  const temp = path.join(dir, `tmp-${randomBytes(4).toString('hex')}`);
  await mkdir(temp, { recursive: true });
  await saveModel(model, path.join(temp, 'model'));
  const { file, data } = await optimizerState(model.optimizer);
  await writeFile(path.join(temp, 'optimizer.bin'), data);
  await writeFile(path.join(temp, 'optimizer.json'), JSON.stringify(file));
  await writeFile(path.join(temp, 'state.json'), JSON.stringify(state));
  const target = path.join(dir, checkpointFolderName(state.epoch));
  await rm(target, { recursive: true, force: true });
  await rename(temp, target);
  for (const name of await readdir(dir)) {
    if (name !== checkpointFolderName(state.epoch)) await rm(path.join(dir, name), { recursive: true, force: true });
  }
}

/**
 * Restores the checkpoint `saved` (from {@link latestCheckpoint}) into a compiled `model`: its weights, and with
 * `optimizer` also its optimizer's slots and iteration. A phase that starts with a fresh optimizer (fine-tuning after a
 * frozen phase) restores the weights only, as an uninterrupted run would have them.
 */
export async function restoreCheckpoint(
  saved: SavedCheckpoint<unknown>,
  model: tf.LayersModel,
  options: { optimizer: boolean },
): Promise<void> {
  const loaded = await loadModel(path.join(saved.folder, 'model'));
  // Layer by layer: a model's own weight order puts trainable weights first, and freezing changes which those are.
  for (const layer of model.layers) layer.setWeights(loaded.getLayer(layer.name).getWeights());
  loaded.dispose();
  if (!options.optimizer) return;
  const file = JSON.parse(await readFile(path.join(saved.folder, 'optimizer.json'), 'utf8')) as OptimizerFile;
  const data = await readFile(path.join(saved.folder, 'optimizer.bin'));
  await restoreOptimizer(model.optimizer, file, data);
}

async function optimizerState(optimizer: tf.Optimizer): Promise<{ file: OptimizerFile; data: Buffer }> {
  const weights = await optimizer.getWeights();
  const chunks: Buffer[] = [];
  for (const { tensor } of weights) {
    const values = await tensor.data();
    chunks.push(Buffer.from(values.buffer, values.byteOffset, values.byteLength));
  }
  const extra: Record<string, number> = {};
  const fields = optimizer as unknown as Record<string, unknown>;
  for (const key of EXTRA_SCALARS) {
    const value = fields[key];
    if (value instanceof tf.Variable) extra[key] = (await value.data())[0] ?? NaN;
  }
  const file: OptimizerFile = {
    weights: weights.map(({ name, tensor }) => ({ name, shape: tensor.shape, dtype: tensor.dtype })),
    extra,
  };
  return { file, data: Buffer.concat(chunks) };
}

async function restoreOptimizer(optimizer: tf.Optimizer, file: OptimizerFile, data: Buffer): Promise<void> {
  let offset = 0;
  const named = file.weights.map(({ name, shape, dtype }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const bytes = data.subarray(offset, offset + size * 4);
    offset += size * 4;
    const copy = new Uint8Array(bytes).buffer;
    const values = dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy);
    return { name, tensor: tf.tensor(values, shape, dtype) };
  });
  // Plain SGD keeps no state but its iteration count, which no update reads, and tfjs refuses to set it.
  if (named.length > 1) await optimizer.setWeights(named);
  named.forEach(({ tensor }) => tensor.dispose());
  const fields = optimizer as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(file.extra)) {
    const variable = fields[key];
    if (variable instanceof tf.Variable) tf.tidy(() => variable.assign(tf.scalar(value, 'float32')));
  }
}
