import type { SweepSpec, Trial } from '../types.js';
import { createRandom, shuffled } from '../util/random.js';

/** Every combination of the grid (first key varies slowest), or `samples` of them drawn with `seed` for method random. */
export function expandGrid(sweep: Pick<SweepSpec, 'grid' | 'method' | 'samples' | 'seed'>): Trial[] {
  let points: Record<string, unknown>[] = [{}];
  for (const dimension of sweep.grid) {
    points = points.flatMap((point) => dimension.values.map((value) => ({ ...point, [dimension.path]: value })));
  }
  if (sweep.method === 'random') {
    const count = Math.min(sweep.samples ?? points.length, points.length);
    points = shuffled(points, createRandom(sweep.seed)).slice(0, count);
  }
  const width = String(points.length).length;
  return points.map((params, index) => ({ id: `t${String(index + 1).padStart(Math.max(width, 2), '0')}`, params }));
}
