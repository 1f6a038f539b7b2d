import { existsSync, statSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { isFolder } from '../util/walk-files.js';
import path from 'node:path';
import { NonRetryableStageError } from '../errors.js';
import { writeDataset } from '../ml/data/dataset-file.js';
import { decodeImage } from '../ml/image/decode-image.js';
import { listFiles } from '../ml/image/list-files.js';
import type { IngestParams } from './catalog.js';
import type { StageRun } from './stage-context.js';

interface Skipped {
  file: string;
  reason: string;
}

const DECODE_BATCH = 32;

/**
 * Reads a folder-per-class tree (optionally one sub-folder per person, as in RMFD), decodes and resizes every image
 * with sharp, and writes one compact dataset. Unreadable files are listed in `ingest-report.json` and skipped.
 */
export const runIngest: StageRun<IngestParams> = async (ctx, params) => {
  const classFolders = await listClassFolders(params);
  const classes = [...new Set(classFolders.map(([, name]) => name))];
  const size = params.imageSize;
  const pixels = size * size * 3;
  const chunks: Uint8Array[] = [];
  const labels: number[] = [];
  const files: string[] = [];
  const skipped: Skipped[] = [];
  const perClass: Record<string, number> = Object.fromEntries(classes.map((name) => [name, 0]));

  for (const [folder, className] of classFolders) {
    let found = await listFiles(path.join(params.dataDir, folder));
    if (params.maxPerClass !== undefined) found = found.slice(0, params.maxPerClass);
    for (let start = 0; start < found.length; start += DECODE_BATCH) {
      ctx.throwIfCancelled();
      const batch = found.slice(start, start + DECODE_BATCH);
      const decoded = await Promise.all(batch.map((file) => decodeImage(file, { fill: size })));
      decoded.forEach((result, index) => {
        const relative = path.relative(params.dataDir, batch[index] ?? '');
        if (typeof result === 'string') {
          skipped.push({ file: relative, reason: result });
          return;
        }
        chunks.push(result.data);
        labels.push(classes.indexOf(className));
        files.push(relative);
        perClass[className] = (perClass[className] ?? 0) + 1;
      });
    }
    ctx.log(`${folder}: ${found.length} files`);
  }
  const empty = classes.find((name) => (perClass[name] ?? 0) === 0);
  if (empty !== undefined) {
    throw new NonRetryableStageError(`class '${empty}' has no readable images under ${params.dataDir}`);
  }
  const images = new Uint8Array(Buffer.concat(chunks, labels.length * pixels));
  await writeDataset(ctx.outDir, { classes, shape: [size, size, 3], images, labels, files });
  const report = { dataDir: params.dataDir, classes, perClass, images: labels.length, skipped };
  await writeFile(path.join(ctx.outDir, 'ingest-report.json'), `${JSON.stringify(report, null, 2)}\n`);
  for (const entry of skipped) ctx.log(`skipped ${entry.file}: ${entry.reason}`);
  ctx.log(`${labels.length} images in ${classes.length} classes, ${skipped.length} skipped`);
  if (skipped.length > 0) {
    // A "warning: " line reaches the console without --verbose (cli/progress-display.ts).
    const first = skipped[0];
    ctx.log(
      `warning: skipped ${skipped.length} of ${labels.length + skipped.length} files that are not readable images ` +
        `(first: ${first?.file}: ${first?.reason}); all are listed in ingest-report.json`,
    );
  }
  return {
    metrics: { images: labels.length, skipped: skipped.length },
    summary: { classes, perClass, skipped: skipped.length },
  };
};

/** [folder, class name] pairs: every sub-folder, or those named in `classes`, in a stable order. */
async function listClassFolders(params: IngestParams): Promise<[string, string][]> {
  if (!existsSync(params.dataDir) || !statSync(params.dataDir).isDirectory()) {
    throw new NonRetryableStageError(`ingest.dataDir: data folder ${params.dataDir} not found`);
  }
  const entries = await readdir(params.dataDir, { withFileTypes: true });
  const folders = entries
    // A class folder may be a symbolic link to one elsewhere (util/walk-files.ts).
    .filter((entry) => !entry.name.startsWith('.') && isFolder(path.join(params.dataDir, entry.name)))
    .map((e) => e.name)
    .sort();
  if (!params.classes) {
    if (folders.length < 2) {
      throw new NonRetryableStageError(
        `ingest.dataDir: ${params.dataDir} needs one sub-folder per class (found ${folders.length})`,
      );
    }
    return folders.map((folder) => [folder, folder]);
  }
  return Object.entries(params.classes).map(([folder, name]) => {
    if (!folders.includes(folder)) {
      throw new NonRetryableStageError(`ingest.classes: folder '${folder}' not found in ${params.dataDir}`);
    }
    return [folder, name];
  });
}
