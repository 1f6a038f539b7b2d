import { existsSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError } from '../errors.js';
import { isFolder } from '../util/walk-files.js';
import { selectBackend, type BackendChoice } from '../ml/backend.js';
import { formatClassificationReport } from '../ml/metrics/classification-report.js';
import { decodeImage } from '../ml/image/decode-image.js';
import { listFiles } from '../ml/image/list-files.js';
import type { RgbImage } from '../ml/image/rgb-image.js';
import { loadModel, readModelMeta } from '../ml/train/model-io.js';
import { classifyImages, formatPredictionsCsv } from '../ml/train/predict.js';
import { resolveModel, type ModelSourceOptions } from './resolve-model.js';

export interface PredictOptions extends ModelSourceOptions {
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
 * `pipeline predict`: classifies images with a trial's model or a registered one (`--model models:/NAME/VERSION`).
 * A folder-per-class tree gives a truth-vs-prediction CSV and the classification report; single images (or a folder
 * of them) give a label and confidence each.
 */
export async function predictCommand(target: string, options: PredictOptions): Promise<number> {
  const resolved = await resolveModel(options);
  try {
    return await predictWith(resolved.dir, resolved.label, target, options);
  } finally {
    await resolved.release();
  }
}

async function predictWith(modelDir: string, label: string, target: string, options: PredictOptions): Promise<number> {
  const meta = await readModelMeta(modelDir);
  const out = options.out === undefined ? undefined : await checkOutFile(options.out);
  const inputs = await listInputs(path.resolve(target), meta.classes);
  const backend = await selectBackend(options.backend);
  const model = await loadModel(modelDir);
  const size = meta.shape[0];
  const decoded = await Promise.all(
    inputs.map(async (input) => ({ ...input, pixels: await decodeImage(input.file, { fill: size }) })),
  );
  const readable = decoded.filter((d): d is typeof d & { pixels: RgbImage } => typeof d.pixels !== 'string');
  if (readable.length === 0) {
    const why = inputs.length === 0 ? 'no files' : `${inputs.length} files, none of them an image`;
    throw new PipelineError('DATA_INVALID', `${path.resolve(target)}: nothing to classify (${why})`);
  }
  const images = new Uint8Array(Buffer.concat(readable.map((d) => d.pixels.data)));
  const truth = readable.map((d) => (d.truth === undefined ? -1 : meta.classes.indexOf(d.truth)));
  const known = readable.length > 0 && truth.every((label) => label >= 0);
  const { decisions, report } = await classifyImages(model, meta, images, known ? { truth } : {});
  model.dispose();
  const predictions: Prediction[] = readable.map((input, i) => ({
    file: path.relative(process.cwd(), input.file),
    ...(input.truth === undefined ? {} : { truth: input.truth }),
    label: meta.classes[decisions[i]?.label ?? 0] ?? '?',
    confidence: decisions[i]?.confidence ?? 0,
  }));
  const skipped = decoded.flatMap((d) => (typeof d.pixels === 'string' ? [{ file: d.file, reason: d.pixels }] : []));
  if (report && out !== undefined) {
    const rows = predictions.map((p) => ({ ...p, truth: p.truth ?? '', predicted: p.label }));
    // Written next to its place and renamed: an interrupted write never leaves half a CSV under the name.
    const temp = `${out}.${process.pid}.tmp`;
    await writeFile(temp, formatPredictionsCsv(rows));
    await rename(temp, out);
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ backend, model: label, predictions, skipped, report }, null, 2)}\n`);
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

/**
 * Checks `--out` before anything is computed: its folder is created if missing, and a folder (or anything but a
 * file) in its place is refused in one line. Returns the absolute path.
 */
async function checkOutFile(out: string): Promise<string> {
  const file = path.resolve(out);
  const existing = await stat(file).catch(() => undefined);
  if (existing && !existing.isFile()) {
    throw new PipelineError(
      'USAGE',
      `--out ${out}: is a folder; give the CSV file's name (e.g. ${path.join(out, 'predictions.csv')})`,
    );
  }
  await mkdir(path.dirname(file), { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    throw new PipelineError('USAGE', `--out ${out}: cannot create its folder (${error.code ?? error.message})`);
  });
  return file;
}

/** Image files to classify, with their true class when they sit in a folder named after one. */
async function listInputs(target: string, classes: string[]): Promise<{ file: string; truth?: string }[]> {
  if (!existsSync(target)) throw new PipelineError('USAGE', `${target}: not found`);
  if (!statSync(target).isDirectory()) return [{ file: target }];
  const entries = await readdir(target, { withFileTypes: true });
  const classDirs = entries.filter((e) => classes.includes(e.name) && isFolder(path.join(target, e.name)));
  if (classDirs.length === 0) return (await listFiles(target)).map((file) => ({ file }));
  const nested = await Promise.all(
    classDirs.map(async (dir) =>
      (await listFiles(path.join(target, dir.name))).map((file) => ({ file, truth: dir.name })),
    ),
  );
  return nested.flat();
}
