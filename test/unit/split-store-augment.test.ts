import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { augmentBatch, drawTransform, warpImage } from '../../src/ml/augment.js';
import { AugmentSchema } from '../../src/stages/catalog.js';
import { stratifiedSplit } from '../../src/stages/split.js';
import { outputPath, WorkspaceStore } from '../../src/store/workspace-store.js';
import { createRandom } from '../../src/util/random.js';
import { tempDir } from '../helpers/temp-project.js';

describe('stratifiedSplit', () => {
  const labels = [...new Array<number>(100).fill(0), ...new Array<number>(30).fill(1), ...new Array<number>(7).fill(2)];

  it('holds out each class in proportion, disjoint and complete', () => {
    const { train, val } = stratifiedSplit(labels, 3, 0.2, 42);
    const count = (indices: number[], k: number) => indices.filter((i) => labels[i] === k).length;
    expect([count(val, 0), count(val, 1), count(val, 2)]).toEqual([20, 6, 1]);
    expect(new Set([...train, ...val]).size).toBe(labels.length);
    expect(train.filter((i) => val.includes(i))).toEqual([]);
  });

  it('same seed, same split; another seed, another split', () => {
    expect(stratifiedSplit(labels, 3, 0.2, 42)).toEqual(stratifiedSplit(labels, 3, 0.2, 42));
    expect(stratifiedSplit(labels, 3, 0.2, 43).val).not.toEqual(stratifiedSplit(labels, 3, 0.2, 42).val);
  });

  it('never empties a class of two or more from training', () => {
    const { train, val } = stratifiedSplit([0, 0, 1, 1], 2, 0.9, 1);
    expect(train).toHaveLength(2);
    expect(val).toHaveLength(2);
  });
});

describe('WorkspaceStore', () => {
  const record = (cacheKey: string) => ({
    cacheKey,
    stage: 's',
    kind: 'split',
    params: {},
    metrics: { x: 1 },
    summary: {},
    startedAt: '',
    finishedAt: '',
    durationMs: 0,
  });

  it('shows a node only once committed, and replaces an older output atomically', async () => {
    const store = new WorkspaceStore(tempDir());
    const build = await store.begin('k1');
    writeFileSync(path.join(build, 'out.txt'), 'one');
    expect(store.has('k1')).toBe(false);
    await store.commit(build, record('k1'));
    expect(store.has('k1')).toBe(true);
    expect((await store.readRecord('k1'))?.metrics).toEqual({ x: 1 });
    const again = await store.begin('k1');
    writeFileSync(path.join(again, 'out2.txt'), 'two');
    await store.commit(again, record('k1'));
    expect(readdirSync(store.nodeDir('k1')).sort()).toEqual(['out2.txt', 'result.json']);
    expect(readdirSync(path.join(store.root, 'tmp'))).toEqual([]);
  });

  it('a build that is discarded leaves nothing behind', async () => {
    const store = new WorkspaceStore(tempDir());
    const build = await store.begin('k2');
    await store.discard(build);
    expect(existsSync(build)).toBe(false);
    expect(store.has('k2')).toBe(false);
  });

  it('refuses output paths that escape the node folder', () => {
    expect(outputPath('/ws/nodes/k', 'model/model.json')).toBe('/ws/nodes/k/model/model.json');
    expect(() => outputPath('/ws/nodes/k', '../other/x')).toThrow(/output path '\.\.\/other\/x' escapes the workspace/);
    expect(() => outputPath('/ws/nodes/k', '/etc/passwd')).toThrow(/escapes the workspace/);
  });
});

describe('augmentation', () => {
  const image = (h: number, w: number) => Float32Array.from({ length: h * w }, (_, i) => i);

  it('with everything off the transform is the identity', () => {
    const t = drawTransform(AugmentSchema.parse({}), 8, 8, createRandom(1));
    t.forEach((v, i) => expect(v).toBeCloseTo([1, 0, 0, 0, 1, 0, 0, 0][i] ?? NaN, 12));
  });

  it('a horizontal flip mirrors each row', () => {
    const source = image(2, 3);
    const target = new Float32Array(6);
    warpImage(source, target, 2, 3, 1, [-1, 0, 2, 0, 1, 0, 0, 0]);
    expect([...target]).toEqual([2, 1, 0, 5, 4, 3]);
  });

  it('a shift past the edge repeats the edge pixel (nearest fill)', () => {
    const target = new Float32Array(6);
    warpImage(image(2, 3), target, 2, 3, 1, [1, 0, 5, 0, 1, 0, 0, 0]);
    expect([...target]).toEqual([2, 2, 2, 5, 5, 5]);
  });

  it('is reproducible from the seed and changes pixels', () => {
    const params = AugmentSchema.parse({ rotation: 20, widthShift: 0.1, zoom: 0.1, shear: 10, horizontalFlip: true });
    const run = (seed: number) => {
      const batch = Float32Array.from({ length: 2 * 8 * 8 * 3 }, (_, i) => (i * 37) % 255);
      augmentBatch(batch, [2, 8, 8, 3], params, createRandom(seed));
      return batch;
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });
});

describe('stratifiedSplit with groups', () => {
  it('keeps every group on one side and matches the ungrouped split when groups are single images', () => {
    const labels = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1];
    expect(
      stratifiedSplit(
        labels,
        2,
        0.4,
        9,
        labels.map((_, i) => `img${i}`),
      ),
    ).toEqual(stratifiedSplit(labels, 2, 0.4, 9));
    // Images 5..9 are masked copies of images 0..4 (another class): each copy must follow its source.
    const groups = labels.map((_, i) => `face${i % 5}`);
    const { train, val } = stratifiedSplit(labels, 2, 0.4, 9, groups);
    expect(val).toHaveLength(4);
    for (const index of val) expect(val).toContain(index < 5 ? index + 5 : index - 5);
    expect(new Set([...train, ...val]).size).toBe(10);
  });
});
