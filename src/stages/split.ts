import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readDataset, subsetDataset, writeDataset } from '../ml/dataset-file.js';
import { createRandom, shuffled } from '../util/random.js';
import type { SplitParams } from './catalog.js';
import { inputDir } from './input-dir.js';
import type { StageRun } from './stage-context.js';

/** Stratified, seeded train/validation split: each class keeps its share in both parts. */
export const runSplit: StageRun<SplitParams> = async (ctx, params) => {
  const dataset = await readDataset(inputDir(ctx, 'synthesize', 'ingest'));
  const { train, val } = stratifiedSplit(dataset.labels, dataset.classes.length, params.valFraction, params.seed);
  await writeDataset(ctx.outDir, subsetDataset(dataset, train), 'train');
  await writeDataset(ctx.outDir, subsetDataset(dataset, val), 'val');
  const counts = (indices: number[]) =>
    Object.fromEntries(dataset.classes.map((name, k) => [name, indices.filter((i) => dataset.labels[i] === k).length]));
  const summary = { train: counts(train), val: counts(val) };
  await writeFile(path.join(ctx.outDir, 'split.json'), `${JSON.stringify({ ...summary, train, val })}\n`);
  ctx.log(`train ${train.length}, val ${val.length}`);
  return { metrics: { train_images: train.length, val_images: val.length }, summary };
};

/**
 * Per class, shuffles indices with `seed` and holds out round(n × valFraction) of them (at least one when n ≥ 2,
 * never all). Returned index lists are sorted.
 */
export function stratifiedSplit(labels: readonly number[], classCount: number, valFraction: number, seed: number) {
  const random = createRandom(seed);
  const train: number[] = [];
  const val: number[] = [];
  for (let k = 0; k < classCount; k++) {
    const members = shuffled(
      labels.flatMap((label, index) => (label === k ? [index] : [])),
      random,
    );
    const held =
      members.length < 2 ? 0 : Math.min(members.length - 1, Math.max(1, Math.round(members.length * valFraction)));
    val.push(...members.slice(0, held));
    train.push(...members.slice(held));
  }
  return { train: train.sort((a, b) => a - b), val: val.sort((a, b) => a - b) };
}
