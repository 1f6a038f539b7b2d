import { existsSync } from 'node:fs';
import { mkdir, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError } from '../errors.js';

const WHY: Record<string, string> = {
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENOENT: 'a folder cannot be created there',
  ENOTDIR: 'a file is in the way',
};

/**
 * Makes sure a run can write into its workspace before anything else happens: creates the missing folders one level
 * at a time (Node's recursive mkdir never returns under /proc) and writes and removes a probe file. Throws STORAGE_FAILED
 * naming the folder and the reason (read-only, permission, full disk), so a run fails in one line instead of in the
 * middle of a stage, with nothing half-written. Folders it created are removed again.
 */
export async function checkWorkspaceWritable(root: string): Promise<void> {
  const missing: string[] = [];
  for (let dir = path.resolve(root); !existsSync(dir); dir = path.dirname(dir)) missing.unshift(dir);
  try {
    for (const dir of missing) {
      await mkdir(dir).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
    }
    const probe = path.join(root, `.write-probe-${process.pid}`);
    await writeFile(probe, 'probe');
    await rm(probe, { force: true });
    // Leave no trace: the run creates what it needs once it has checked its servers too.
    for (const dir of missing.reverse()) await rmdir(dir).catch(() => undefined);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
    throw new PipelineError(
      'STORAGE_FAILED',
      `--workspace ${path.resolve(root)}: cannot write there (${code}: ${WHY[code] ?? (error as Error).message}); ` +
        'pick another with --workspace or PIPELINE_WORKSPACE (pipeline status reads a workspace without writing)',
    );
  }
}
