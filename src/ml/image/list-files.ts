import { readdir } from 'node:fs/promises';
import path from 'node:path';

/** Every file under `dir`, recursively (person sub-folders), sorted for a stable order; hidden files ignored. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && !entry.name.startsWith('.'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}
