import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readDataset, subsetDataset, writeDataset } from '../ml/data/dataset-file.js';
import { createRandom, shuffled } from '../util/random.js';
import type { SplitParams } from './catalog.js';
import { inputDir } from './input-dir.js';
import type { StageRun } from './stage-context.js';
import { sourceFileOf } from './synthesis-plan.js';

/** Stratified, seeded train/validation split: each class keeps its share in both parts. */
export const runSplit: StageRun<SplitParams> = async (ctx, params) => {
  const dataset = await readDataset(inputDir(ctx, 'synthesize', 'ingest'));
  // A synthesized copy goes wherever its source goes, so no face is in both parts.
  const groups = dataset.files.map(sourceFileOf);
  const { train, val } = stratifiedSplit(
    dataset.labels,
    dataset.classes.length,
    params.valFraction,
    params.seed,
    groups,
  );
  ctx.throwIfCancelled();
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
 * Per class, shuffles the groups (by default, each image its own group) with `seed` and holds out
 * round(groups × valFraction) of them (at least one when a class has two or more, never all). A group belongs to the
 * class of its first image and goes to one side whole. Returned index lists are sorted.
 */
export function stratifiedSplit(
  labels: readonly number[],
  classCount: number,
  valFraction: number,
  seed: number,
  groups: readonly string[] = labels.map((_, index) => String(index)),
) {
  const members = new Map<string, number[]>();
  groups.forEach((group, index) => members.set(group, [...(members.get(group) ?? []), index]));
  const random = createRandom(seed);
  const train: number[] = [];
  const val: number[] = [];
  for (let k = 0; k < classCount; k++) {
    const classGroups = [...members.values()].filter((indices) => labels[indices[0] ?? -1] === k);
    const order = shuffled(classGroups, random);
    const held = order.length < 2 ? 0 : Math.min(order.length - 1, Math.max(1, Math.round(order.length * valFraction)));
    val.push(...order.slice(0, held).flat());
    train.push(...order.slice(held).flat());
  }
  return { train: train.sort((a, b) => a - b), val: val.sort((a, b) => a - b) };
}
