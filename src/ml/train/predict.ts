import * as tf from '@tensorflow/tfjs';
import { classificationReport, type ClassificationReport } from '../metrics/classification-report.js';
import { MODEL_CATALOG, type Preprocess } from '../models/model-catalog.js';
import type { ModelMeta } from './model-io.js';
import { fitToModel, imagesTensor } from './tensors.js';
import { csvField } from '../../util/csv.js';

/** A predicted class and the model's probability for it. */
export interface Decision {
  label: number;
  confidence: number;
}

/** Decisions for a set of images, and the classification report when their true classes are known. */
export interface Classification {
  decisions: Decision[];
  report: ClassificationReport | undefined;
}

export interface ClassifyOptions {
  /** Decision threshold of a sigmoid (2-class) model; default 0.5. */
  threshold?: number;
  /** True label of every image, for the report. */
  truth?: readonly number[];
}

/**
 * Predict → decide → report, for images (uint8 NHWC of `meta.shape`) and a trained model with its meta: what
 * evaluate computes on the validation split and `pipeline predict` on new images.
 */
export async function classifyImages(
  model: tf.LayersModel,
  meta: ModelMeta,
  images: Uint8Array,
  options: ClassifyOptions & { truth: readonly number[] },
): Promise<Classification & { report: ClassificationReport }>;
export async function classifyImages(
  model: tf.LayersModel,
  meta: ModelMeta,
  images: Uint8Array,
  options?: ClassifyOptions,
): Promise<Classification>;
export async function classifyImages(
  model: tf.LayersModel,
  meta: ModelMeta,
  images: Uint8Array,
  options: ClassifyOptions = {},
): Promise<Classification> {
  const count = images.length / (meta.shape[0] * meta.shape[1] * meta.shape[2]);
  const preprocess = MODEL_CATALOG[meta.model].preprocess;
  const probabilities = await predictImages(model, images, meta.shape, count, preprocess);
  const decisions = decide(probabilities, count, meta.classes.length, options.threshold);
  const labels = decisions.map((d) => d.label);
  const report = options.truth && classificationReport(options.truth, labels, meta.classes);
  return { decisions, report };
}

/** Per image: the predicted class and its probability. */
export function decide(probabilities: Float32Array, rows: number, classCount: number, threshold = 0.5): Decision[] {
  return Array.from({ length: rows }, (_, row) => {
    if (classCount === 2) {
      const p = probabilities[row] ?? 0;
      return p >= threshold ? { label: 1, confidence: p } : { label: 0, confidence: 1 - p };
    }
    let best = 0;
    for (let k = 1; k < classCount; k++) {
      if ((probabilities[row * classCount + k] ?? 0) > (probabilities[row * classCount + best] ?? 0)) best = k;
    }
    return { label: best, confidence: probabilities[row * classCount + best] ?? 0 };
  });
}

/** Model outputs for every image, computed in batches to bound memory. */
export async function predictImages(
  model: tf.LayersModel,
  images: Uint8Array,
  shape: [number, number, number],
  count: number,
  preprocess: Preprocess,
  batchSize = 64,
): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, count - start) }, (_, i) => start + i);
    const output = tf.tidy(
      () => model.predict(fitToModel(imagesTensor(images, shape, indices, preprocess), model)) as tf.Tensor,
    );
    parts.push((await output.data()) as Float32Array);
    output.dispose();
  }
  const total = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    total.set(part, offset);
    offset += part.length;
  }
  return total;
}

/** One row of a predictions CSV. */
export interface PredictionRow {
  file: string;
  /** True class name; empty when unknown. */
  truth: string;
  predicted: string;
  confidence: number;
}

/** `file,truth,predicted,confidence`, one row per image: evaluate's `predictions.csv` and `pipeline predict --out`. */
export function formatPredictionsCsv(rows: readonly PredictionRow[]): string {
  const lines = rows.map((row) => [csvField(row.file), row.truth, row.predicted, row.confidence.toFixed(4)].join(','));
  return ['file,truth,predicted,confidence', ...lines].join('\n') + '\n';
}
