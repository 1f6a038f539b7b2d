import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { ClassificationReport } from '../ml/metrics/classification-report.js';
import { epochTableCsv, epochTableMarkdown } from '../render/epoch-table.js';
import { confusionChart, lineChart } from '../render/svg-charts.js';
import type { VisualizeParams } from './catalog.js';
import { inputDir } from './input-dir.js';
import type { StageRun } from './stage-context.js';
import type { EpochMetrics } from './train.js';
import { drawModelPictures } from './visualize-model.js';

/**
 * Renders the training curves (loss and accuracy, train vs validation), the confusion matrix and the per-epoch table
 * (`epochs.md`, `epochs.csv`); with the split among its needs, also the model's view of validation images
 * (`cam.png`, `feature-maps-*.png`, `misclassified.png`, see visualize-model.ts).
 */
export const runVisualize: StageRun<VisualizeParams> = async (ctx, params) => {
  const history = JSON.parse(
    await readFile(path.join(inputDir(ctx, 'train'), 'history.json'), 'utf8'),
  ) as EpochMetrics[];
  const report = JSON.parse(
    await readFile(path.join(inputDir(ctx, 'evaluate'), 'report.json'), 'utf8'),
  ) as ClassificationReport;
  const pick = (key: keyof EpochMetrics) => history.map((row) => (row[key] === null ? NaN : Number(row[key])));
  const curves = (title: string, train: keyof EpochMetrics, validation: keyof EpochMetrics) =>
    lineChart({
      title,
      xLabel: 'epoch',
      width: params.width,
      height: params.height,
      series: [
        { name: 'train', color: '#1f77b4', values: pick(train) },
        { name: 'validation', color: '#ff7f0e', values: pick(validation) },
      ],
    });
  const charts: Record<string, string> = {
    'loss.png': curves('Loss', 'loss', 'val_loss'),
    'accuracy.png': curves('Accuracy', 'accuracy', 'val_accuracy'),
    'confusion.png': confusionChart(report.confusion, report.classes, 'Confusion matrix (validation)'),
  };
  for (const [name, svgText] of Object.entries(charts)) {
    ctx.throwIfCancelled();
    await sharp(Buffer.from(svgText)).png().toFile(path.join(ctx.outDir, name));
  }
  const rows = history.map((row) => ({ ...row }));
  await writeFile(path.join(ctx.outDir, 'epochs.md'), epochTableMarkdown(rows, 'Loss and accuracy per epoch'));
  await writeFile(path.join(ctx.outDir, 'epochs.csv'), epochTableCsv(rows));
  const files = [...Object.keys(charts), 'epochs.md', 'epochs.csv'];
  if (ctx.inputs.split !== undefined) files.push(...(await drawModelPictures(ctx, params)));
  else ctx.log('no split among the needs: cam.png, feature maps and misclassified.png are not drawn');
  ctx.log(`wrote ${files.join(', ')}`);
  return { metrics: {}, summary: { files } };
};
