import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError } from '../errors.js';
import { listDataFiles } from './data-folder.js';

/** Size and SHA-256 of every file under a folder, by path relative to it (`/`-separated). */
export interface FileManifest {
  files: Record<string, { size: number; sha256: string }>;
}

/** The manifest of a folder's files: what a pushed node or data folder is verified against when pulled. */
export async function buildManifest(dir: string): Promise<FileManifest> {
  const files: FileManifest['files'] = {};
  for (const file of listDataFiles(dir)) {
    const bytes = await readFile(path.join(dir, file));
    files[file.split(path.sep).join('/')] = { size: bytes.length, sha256: sha256Bytes(bytes) };
  }
  return { files };
}

/** Hex SHA-256 of some bytes. */
export function sha256Bytes(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Throws STORE_INVALID unless `bytes` are the file the manifest lists under `name`. */
export function verifyFile(manifest: FileManifest, name: string, bytes: Buffer, where: string): void {
  const expected = manifest.files[name];
  const actual = sha256Bytes(bytes);
  if (!expected || expected.size !== bytes.length || expected.sha256 !== actual) {
    throw new PipelineError(
      'STORE_INVALID',
      `${where}/${name}: downloaded ${bytes.length} bytes with sha256 ${actual.slice(0, 12)}…, the manifest lists ${
        expected ? `${expected.size} bytes, ${expected.sha256.slice(0, 12)}…` : 'no such file'
      }`,
    );
  }
}

/** Reads a manifest's JSON, refusing anything that is not one. */
export function parseManifest(text: string, where: string): FileManifest {
  let value: { files?: unknown };
  try {
    value = JSON.parse(text) as { files?: unknown };
  } catch {
    value = {};
  }
  const files = value.files;
  const valid =
    typeof files === 'object' &&
    files !== null &&
    Object.entries(files).every(
      ([name, entry]) =>
        !name.startsWith('/') &&
        !name.split('/').includes('..') &&
        typeof (entry as { size?: unknown }).size === 'number' &&
        typeof (entry as { sha256?: unknown }).sha256 === 'string',
    );
  if (!valid) throw new PipelineError('STORE_INVALID', `${where}/manifest.json is not a file manifest`);
  return value as FileManifest;
}
