import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatClassificationReport } from '../ml/metrics/classification-report.js';
import { readDataset } from '../ml/data/dataset-file.js';
import { loadModel, readModelMeta } from '../ml/train/model-io.js';
import { classifyImages, formatPredictionsCsv } from '../ml/train/predict.js';
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
  const meta = await readModelMeta(modelDir);
  const model = await loadModel(modelDir);
  const { decisions, report } = await classifyImages(model, meta, val.images, {
    threshold: params.threshold,
    truth: val.labels,
  });
  model.dispose();
  ctx.throwIfCancelled();
  const text = formatClassificationReport(report, params.digits);
  await writeFile(path.join(ctx.outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(path.join(ctx.outDir, 'report.txt'), text);
  const rows = decisions.map((d, i) => ({
    file: val.files[i] ?? '',
    truth: val.classes[val.labels[i] ?? 0] ?? '',
    predicted: val.classes[d.label] ?? '',
    confidence: d.confidence,
  }));
  await writeFile(path.join(ctx.outDir, 'predictions.csv'), formatPredictionsCsv(rows));
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
