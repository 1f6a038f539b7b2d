import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { NodeRecord } from '../types.js';

/** How thoroughly a node's files are checked against its record. */
export type CheckDepth = 'size' | 'hash';

/**
 * What is wrong with a committed node's files, compared with the sizes and SHA-256 hashes its record lists
 * (`files`, written at commit): undefined when nothing is, or when the record predates the hashes. `size` only stats
 * each file (every time a node is reused); `hash` reads them all (before a stage reads the node, `pipeline verify`,
 * before a model is loaded).
 */
export async function findDamage(nodeDir: string, record: NodeRecord, depth: CheckDepth): Promise<string | undefined> {
  for (const [name, expected] of Object.entries(record.files ?? {})) {
    const file = path.join(nodeDir, ...name.split('/'));
    const size = await stat(file).then(
      (info) => info.size,
      () => undefined,
    );
    if (size === undefined) return `${name} is missing`;
    if (size !== expected.size)
      return `${name} has ${size.toLocaleString('en')} bytes, ${expected.size.toLocaleString('en')} when built`;
    if (depth === 'hash' && (await hashFile(file)) !== expected.sha256)
      return `${name} has changed since it was built (sha256 differs)`;
  }
  return undefined;
}

/** Hex SHA-256 of a file, streamed (weights files are large). */
export function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('error', reject)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')));
  });
}
