import { existsSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NonRetryableStageError, PipelineError } from '../../../src/errors.js';
import { readDataset } from '../../../src/ml/data/dataset-file.js';
import { IngestParamsSchema } from '../../../src/stages/catalog.js';
import { runIngest } from '../../../src/stages/ingest.js';
import { stageContext } from '../../helpers/stage-context.js';
import { copySample, tempDir, writeFiles } from '../../helpers/temp-project.js';

describe('ingest stage', () => {
  it('decodes every class folder into one dataset and reports the files it skipped', async () => {
    const dataDir = copySample(tempDir(), 3);
    writeFileSync(path.join(dataDir, 'without_mask', 'notes.txt'), 'not an image');
    const ctx = stageContext();
    const result = await runIngest(ctx, IngestParamsSchema.parse({ dataDir, imageSize: 8 }));
    const dataset = await readDataset(ctx.outDir);
    expect(dataset.classes).toEqual(['with_mask', 'without_mask']);
    expect(dataset.labels).toEqual([0, 0, 0, 1, 1, 1]);
    expect(dataset.images).toHaveLength(6 * 8 * 8 * 3);
    const report = JSON.parse(readFileSync(path.join(ctx.outDir, 'ingest-report.json'), 'utf8')) as {
      skipped: { file: string; reason: string }[];
    };
    expect(report.skipped).toEqual([{ file: path.join('without_mask', 'notes.txt'), reason: 'not an image' }]);
    expect(result.metrics).toEqual({ images: 6, skipped: 1 });
  });

  it('takes class folders and images that are symbolic links like real ones (a 3-class set stays 3 classes)', async () => {
    const elsewhere = copySample(tempDir(), 2);
    const dataDir = copySample(tempDir(), 2);
    symlinkSync(path.join(elsewhere, 'with_mask'), path.join(dataDir, 'improper_mask'));
    const image = readdirSync(path.join(elsewhere, 'without_mask'))[0] ?? '';
    symlinkSync(path.join(elsewhere, 'without_mask', image), path.join(dataDir, 'without_mask', `linked-${image}`));
    const ctx = stageContext();
    const result = await runIngest(ctx, IngestParamsSchema.parse({ dataDir, imageSize: 8 }));
    const dataset = await readDataset(ctx.outDir);
    expect(dataset.classes).toEqual(['improper_mask', 'with_mask', 'without_mask']);
    expect(dataset.labels).toEqual([0, 0, 1, 1, 2, 2, 2]);
    expect(result.metrics).toEqual({ images: 7, skipped: 0 });
  });

  it('a class with no readable image is bad data, not a retryable failure', async () => {
    const dataDir = copySample(tempDir(), 1);
    rmSync(path.join(dataDir, 'with_mask'), { recursive: true });
    writeFiles(dataDir, { 'with_mask/a.jpg': 'broken' });
    const ctx = stageContext();
    const error = await runIngest(ctx, IngestParamsSchema.parse({ dataDir })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonRetryableStageError);
    expect((error as Error).message).toMatch(/class 'with_mask' has no readable images/);
  });

  it('stops with a CANCELLED error, writing nothing, once the run is cancelled', async () => {
    const dataDir = copySample(tempDir(), 2);
    const controller = new AbortController();
    controller.abort();
    const ctx = stageContext({}, { signal: controller.signal });
    const error = await runIngest(ctx, IngestParamsSchema.parse({ dataDir })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PipelineError);
    expect((error as PipelineError).code).toBe('CANCELLED');
    expect(existsSync(path.join(ctx.outDir, 'dataset.json'))).toBe(false);
  });
});
