import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decide, predictImages } from '../ml/basic-cnn.js';
import { classificationReport, formatClassificationReport } from '../ml/classification-report.js';
import { readDataset } from '../ml/dataset-file.js';
import { loadModel } from '../ml/model-io.js';
import type { EvaluateParams } from './catalog.js';
import { inputDir } from './input-dir.js';
import type { StageRun } from './stage-context.js';

/**
 * Scores the trained model on the validation images: scikit-learn's classification report (JSON and text),
 * the confusion matrix, and one CSV row per image.
 */
export const runEvaluate: StageRun<EvaluateParams> = async (ctx, params) => {
  const modelDir = path.join(inputDir(ctx, 'train'), 'model');
  const val = await readDataset(inputDir(ctx, 'split'), 'val');
  const model = await loadModel(modelDir);
  const count = val.labels.length;
  const probabilities = await predictImages(model, val.images, val.shape, count);
  model.dispose();
  const decisions = decide(probabilities, count, val.classes.length, params.threshold);
  const report = classificationReport(
    val.labels,
    decisions.map((d) => d.label),
    val.classes,
  );
  const text = formatClassificationReport(report, params.digits);
  await writeFile(path.join(ctx.outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(path.join(ctx.outDir, 'report.txt'), text);
  const rows = decisions.map((d, i) =>
    [csvField(val.files[i] ?? ''), val.classes[val.labels[i] ?? 0], val.classes[d.label], d.confidence.toFixed(4)].join(
      ',',
    ),
  );
  await writeFile(
    path.join(ctx.outDir, 'predictions.csv'),
    ['file,truth,predicted,confidence', ...rows].join('\n') + '\n',
  );
  ctx.log(`\n${text}`);
  const metrics: Record<string, number> = {
    accuracy: report.accuracy,
    macro_f1: report.macroAvg.f1,
    weighted_f1: report.weightedAvg.f1,
  };
  report.classes.forEach((name, k) => {
    const scores = report.perClass[k];
    if (!scores) return;
    metrics[`precision_${name}`] = scores.precision;
    metrics[`recall_${name}`] = scores.recall;
    metrics[`f1_${name}`] = scores.f1;
  });
  return { metrics, summary: { classes: report.classes, confusion: report.confusion } };
};

/** Quotes a CSV field when it holds a comma, quote or newline. */
export function csvField(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
