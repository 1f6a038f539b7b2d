/**
 * What the cache's integrity checks cost (src/store/node-integrity.ts): a node's files checked by size only (every
 * reuse) and by SHA-256 (before a stage reads the node, before a model is loaded, `pipeline verify`), for nodes of the
 * sizes this project builds: the CNN's weights (~4 MB at 64 px), a split of the full data set at 64 px (~40 MB), and
 * ResNet-50 V2's weights (~94 MB). Median of 5 rounds per size, the file freshly written (so in the page cache, as
 * after a build) → bench/results/node-hash-cost.json.
 *
 *   npx tsx bench/node-hash-cost.ts
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findDamage } from '../src/store/node-integrity.js';
import { buildManifest } from '../src/store/file-manifest.js';
import type { NodeRecord } from '../src/types.js';
import { tempDir } from '../test/helpers/temp-project.js';
import { median } from './lib/report.js';

const SIZES_MB = [4, 40, 94];
const ROUNDS = 5;

async function timeMs(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

const rows = [];
for (const mb of SIZES_MB) {
  const dir = tempDir('hash-cost-');
  writeFileSync(path.join(dir, 'weights.bin'), randomBytes(mb * 1024 * 1024));
  const record = { files: (await buildManifest(dir)).files } as NodeRecord;
  const size: number[] = [];
  const hash: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    size.push(await timeMs(() => findDamage(dir, record, 'size')));
    hash.push(await timeMs(() => findDamage(dir, record, 'hash')));
  }
  const row = {
    megabytes: mb,
    sizeCheckMs: median(size),
    hashCheckMs: median(hash),
    mbPerSecond: mb / (median(hash) / 1000),
  };
  console.log(
    `${mb} MB: size check ${row.sizeCheckMs.toFixed(2)} ms, hash ${row.hashCheckMs.toFixed(0)} ms (${row.mbPerSecond.toFixed(0)} MB/s)`,
  );
  rows.push(row);
}
const out = path.resolve(import.meta.dirname, 'results', 'node-hash-cost.json');
mkdirSync(path.dirname(out), { recursive: true });
const machine = { cpus: os.cpus().length, model: os.cpus()[0]?.model, load: os.loadavg()[0] };
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), machine, rounds: ROUNDS, rows }, null, 2)}\n`);
