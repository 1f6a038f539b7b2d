import { existsSync, statSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError } from '../errors.js';
import { selectBackend, type BackendChoice } from '../ml/backend.js';
import { classifyPhoto, type ClassifiedFace, type FaceClassifier } from '../ml/detect/classify-photo.js';
import { loadFaceModels, type FaceModels } from '../ml/faces/face-models.js';
import { listFiles } from '../ml/image/list-files.js';
import { readPhoto } from '../ml/image/read-photo.js';
import { emptyTruthTable, matchFaces, tallyMatches, type TruthTable } from '../ml/metrics/match-faces.js';
import { loadModel, readModelMeta } from '../ml/train/model-io.js';
import { annotateFaces } from '../render/annotate-faces.js';
import { formatDetectionsCsv, summarizeFaces, type PhotoResult } from './detect-output.js';
import { formatTruthTable, readTruthFile, type TruthFile } from './detect-truth.js';
import { resolveModel, type ModelSourceOptions } from './resolve-model.js';

export interface DetectOptions extends ModelSourceOptions {
  backend: BackendChoice;
  /** Folder for the annotated PNGs, `detections.json` and (with `csv`) `detections.csv`. */
  out: string;
  json?: boolean;
  csv?: boolean;
  /** Detector score a face needs, 0..1. */
  minConfidence: number;
  /** At most this many faces per photo. */
  maxFaces: number;
  /** CSV of expected faces: prints the truth-vs-prediction table. */
  truth?: string;
}

/** Photos are searched at most this many pixels a side; larger ones are scaled down, not refused. */
export const DETECT_MAX_SIDE = 2048;

/**
 * `pipeline detect`: finds every face in photos, classifies each with a trial's (or a registered) model, and writes
 * an annotated PNG per photo plus the faces as JSON (and CSV). With `--truth`, matches the faces to the expected
 * ones and prints the truth-vs-prediction table.
 */
export async function detectCommand(target: string, options: DetectOptions): Promise<number> {
  const inputs = await listPhotos(target);
  if (options.truth !== undefined && !existsSync(options.truth)) {
    throw new PipelineError('USAGE', `--truth ${options.truth}: not found`);
  }
  const resolved = await resolveModel(options);
  try {
    const meta = await readModelMeta(resolved.dir);
    const truth =
      options.truth === undefined
        ? undefined
        : await readTruthFile(
            options.truth,
            inputs.map((input) => input.name),
            meta.classes,
          );
    const backend = await selectBackend(options.backend);
    const faceModels = await loadFaceModels();
    const classifier = { model: await loadModel(resolved.dir), meta };
    try {
      const run = await detectAll(inputs, faceModels, classifier, truth, options);
      const report = { backend, model: resolved.label, ...run };
      await writeReports(report, options);
      if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else if (run.truthTable) process.stdout.write(`\n${formatTruthTable(run.truthTable)}`);
      return 0;
    } finally {
      classifier.model.dispose();
    }
  } finally {
    await resolved.release();
  }
}

interface PhotoInput {
  file: string;
  /** Path relative to the searched folder (the file name for a single photo): how truth files name it. */
  name: string;
}

async function listPhotos(target: string): Promise<PhotoInput[]> {
  const root = path.resolve(target);
  if (!existsSync(root)) throw new PipelineError('USAGE', `${target}: not found`);
  if (!statSync(root).isDirectory()) return [{ file: root, name: path.basename(root) }];
  const files = await listFiles(root);
  if (files.length === 0) throw new PipelineError('DATA_INVALID', `${target}: no files in this folder`);
  return files.map((file) => ({ file, name: path.relative(root, file) }));
}

async function detectAll(
  inputs: readonly PhotoInput[],
  faceModels: FaceModels,
  classifier: FaceClassifier,
  truth: TruthFile | undefined,
  options: DetectOptions,
) {
  const photos: PhotoResult[] = [];
  const skipped: { image: string; reason: string }[] = [];
  const truthTable = truth && emptyTruthTable(classifier.meta.classes);
  const log = (line: string) => (options.json ? process.stderr : process.stdout).write(`${line}\n`);
  for (const [k, input] of inputs.entries()) {
    const progress = inputs.length > 1 ? `[${k + 1}/${inputs.length}] ` : '';
    const started = performance.now();
    const photo = await readPhoto(input.file, DETECT_MAX_SIDE);
    if (typeof photo === 'string') {
      if (inputs.length === 1) throw new PipelineError('DATA_INVALID', `${input.name}: ${photo}`);
      skipped.push({ image: input.name, reason: photo });
      process.stderr.write(`${progress}skipped ${input.name}: ${photo}\n`);
      continue;
    }
    const faces = await classifyPhoto(faceModels, classifier, photo.image, options);
    const annotated = path.join(options.out, annotatedName(input.name));
    // Made only now, so input that cannot be read leaves no output folder behind.
    await mkdir(options.out, { recursive: true });
    await writeAtomically(annotated, await annotateFaces(photo.image, faces));
    const result = photoResult(input.name, annotated, photo.scale, faces);
    photos.push(result);
    if (truthTable && truth) tally(truthTable, truth.get(input.name) ?? [], result);
    const seconds = (performance.now() - started) / 1000;
    log(`${progress}${input.name}: ${summarizeFaces(result.faces)} → ${annotated} (${seconds.toFixed(1)} s)`);
  }
  const faceCount = photos.reduce((sum, p) => sum + p.faces.length, 0);
  return { photos, skipped, faces: faceCount, ...(truthTable ? { truthTable } : {}) };
}

function tally(table: TruthTable, expected: Parameters<typeof matchFaces>[0], result: PhotoResult): void {
  tallyMatches(table, expected, result.faces, matchFaces(expected, result.faces));
}

/** Faces with their boxes in the file's own pixels (the annotated PNG may be scaled down). */
function photoResult(name: string, annotated: string, scale: number, faces: ClassifiedFace[]): PhotoResult {
  const unscale = (v: number) => Math.round((v / scale) * 10) / 10;
  return {
    image: name,
    annotated,
    scale,
    faces: faces.map((face) => ({
      box: {
        x: unscale(face.box.x),
        y: unscale(face.box.y),
        width: unscale(face.box.width),
        height: unscale(face.box.height),
      },
      score: face.score,
      label: face.label,
      confidence: face.confidence,
    })),
  };
}

/** `group/photo.jpg` → `group__photo.png`: one flat folder of annotated photos. */
function annotatedName(name: string): string {
  return `${name.replace(/\.[^./\\]+$/, '').replace(/[/\\]/g, '__')}.png`;
}

async function writeReports(report: { photos: PhotoResult[] }, options: DetectOptions): Promise<void> {
  await mkdir(options.out, { recursive: true });
  await writeAtomically(path.join(options.out, 'detections.json'), `${JSON.stringify(report, null, 2)}\n`);
  if (options.csv) await writeAtomically(path.join(options.out, 'detections.csv'), formatDetectionsCsv(report.photos));
}

/** Writes beside the target and renames, so an interrupted run never leaves a half-written file. */
async function writeAtomically(file: string, data: string | Buffer): Promise<void> {
  const partial = `${file}.partial`;
  await writeFile(partial, data);
  await rename(partial, file);
}
