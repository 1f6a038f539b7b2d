import { existsSync, statSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError } from '../errors.js';
import { selectBackend, type BackendChoice } from '../ml/backend.js';
import { decide, predictImages } from '../ml/basic-cnn.js';
import { classificationReport, formatClassificationReport } from '../ml/classification-report.js';
import { loadModel } from '../ml/model-io.js';
import { collectTrialRows, readStoredKnowledge } from '../orchestrator/trial-results.js';
import { csvField } from '../stages/evaluate.js';
import { decodeImage, listFiles } from '../stages/ingest.js';
import { openSweep, type SweepCommandOptions } from './open-sweep.js';

export interface PredictOptions extends SweepCommandOptions {
  sweep: string;
  trial: string;
  backend: BackendChoice;
  out?: string;
  json?: boolean;
}

interface Prediction {
  file: string;
  truth?: string;
  label: string;
  confidence: number;
}

/**
 * `pipeline predict`: classifies images with a trial's model. A folder-per-class tree gives a truth-vs-prediction
 * CSV and the classification report; single images (or a folder of them) give a label and confidence each.
 */
export async function predictCommand(target: string, options: PredictOptions): Promise<number> {
  const modelDir = await findModelDir(options);
  const meta = JSON.parse(await readFile(path.join(modelDir, 'classes.json'), 'utf8')) as {
    classes: string[];
    shape: [number, number, number];
  };
  const inputs = await listInputs(path.resolve(target), meta.classes);
  const backend = await selectBackend(options.backend);
  const model = await loadModel(modelDir);
  const size = meta.shape[0];
  const decoded = await Promise.all(
    inputs.map(async (input) => ({ ...input, pixels: await decodeImage(input.file, size) })),
  );
  const unreadable = decoded.filter((d) => typeof d.pixels === 'string');
  const readable = decoded.filter((d): d is typeof d & { pixels: Buffer } => typeof d.pixels !== 'string');
  const images = new Uint8Array(Buffer.concat(readable.map((d) => d.pixels)));
  const probabilities = await predictImages(model, images, meta.shape, readable.length);
  const decisions = decide(probabilities, readable.length, meta.classes.length);
  const predictions: Prediction[] = readable.map((input, i) => ({
    file: path.relative(process.cwd(), input.file),
    ...(input.truth === undefined ? {} : { truth: input.truth }),
    label: meta.classes[decisions[i]?.label ?? 0] ?? '?',
    confidence: decisions[i]?.confidence ?? 0,
  }));
  const skipped = unreadable.map((d) => ({ file: d.file, reason: String(d.pixels) }));
  const withTruth = predictions.filter((p) => p.truth !== undefined);
  const report =
    withTruth.length > 0
      ? classificationReport(
          withTruth.map((p) => meta.classes.indexOf(p.truth ?? '')),
          withTruth.map((p) => meta.classes.indexOf(p.label)),
          meta.classes,
        )
      : undefined;
  if (report && options.out !== undefined) {
    const rows = predictions.map((p) => [csvField(p.file), p.truth ?? '', p.label, p.confidence.toFixed(4)].join(','));
    await writeFile(options.out, ['file,truth,predicted,confidence', ...rows].join('\n') + '\n');
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ backend, model: modelDir, predictions, skipped, report }, null, 2)}\n`);
    return 0;
  }
  if (report) {
    process.stdout.write(formatClassificationReport(report));
    if (options.out !== undefined) process.stdout.write(`\npredictions written to ${options.out}\n`);
  } else {
    for (const p of predictions) process.stdout.write(`${p.file}  ${p.label}  ${(p.confidence * 100).toFixed(1)}%\n`);
  }
  for (const s of skipped) process.stderr.write(`skipped ${s.file}: ${s.reason}\n`);
  return 0;
}

async function findModelDir(options: PredictOptions): Promise<string> {
  const { plan, store } = await openSweep(options.sweep, options);
  const rows = collectTrialRows(plan, await readStoredKnowledge(plan, store));
  const row = options.trial === 'best' ? rows.find((r) => r.best) : rows.find((r) => r.id === options.trial);
  if (!row) {
    const reason =
      options.trial === 'best' ? 'no trial has finished yet; run the sweep first' : `no trial ${options.trial}`;
    throw new PipelineError('NOT_FOUND', `--trial ${options.trial}: ${reason}`);
  }
  const train = plan.nodes.find((node) => node.kind === 'train' && node.trials.includes(row.id));
  if (!train || !store.has(train.cacheKey)) {
    throw new PipelineError('NOT_FOUND', `trial ${row.id} has no trained model in ${store.root}; run the sweep first`);
  }
  return path.join(store.nodeDir(train.cacheKey), 'model');
}

/** Image files to classify, with their true class when they sit in a folder named after one. */
async function listInputs(target: string, classes: string[]): Promise<{ file: string; truth?: string }[]> {
  if (!existsSync(target)) throw new PipelineError('USAGE', `${target}: not found`);
  if (!statSync(target).isDirectory()) return [{ file: target }];
  const entries = await readdir(target, { withFileTypes: true });
  const classDirs = entries.filter((e) => e.isDirectory() && classes.includes(e.name));
  if (classDirs.length === 0) return (await listFiles(target)).map((file) => ({ file }));
  const nested = await Promise.all(
    classDirs.map(async (dir) =>
      (await listFiles(path.join(target, dir.name))).map((file) => ({ file, truth: dir.name })),
    ),
  );
  return nested.flat();
}
