import path from 'node:path';
import { walkFiles } from '../../util/walk-files.js';

/**
 * Every file under `dir`, recursively (person sub-folders), sorted for a stable order; hidden files ignored, symbolic
 * links followed (util/walk-files.ts).
 */
export async function listFiles(dir: string): Promise<string[]> {
  return Promise.resolve(walkFiles(dir, { skipHidden: true }).map((file) => path.join(dir, file)));
}
