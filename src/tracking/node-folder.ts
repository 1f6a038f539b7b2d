import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import type { StageKind } from '../types.js';
import type { DatasetFacts } from './dataset-inputs.js';
import type { ModelFacts } from './logged-model.js';

/** Files above this size are left out of a run's artifacts; they stay in the workspace. */
const MAX_ARTIFACT_BYTES = 200 * 1024 * 1024;

/** What the tracker read from a finished node's output folder. */
export interface NodeFolder {
  root: string;
  /** Artifact paths relative to `root`, `/`-separated (the model folder excluded when it becomes a LoggedModel). */
  artifacts: string[];
  /** Per-epoch rows of `history.json` (epochs counted from 1). */
  history: { epoch: number; metrics: Record<string, number> }[];
  /** A train node's `model/` folder. */
  model?: ModelFacts;
  /** A split node's parts as data sets; a function, since hashing them is the costly part and often not needed. */
  datasets?: () => DatasetFacts[];
}

/** How to read a node folder: its stage kind, and how the caller knows a model family's pixel preprocessing. */
export interface ReadNodeOptions {
  kind: StageKind;
  preprocessOf?: (family: string) => string | undefined;
}

/**
 * What of a node output folder goes to MLflow. Artifacts: reports, plots, history; left out are the store's own
 * `result.json`, data sets (a top-level `name.bin` with its `name.json`), huge files, and a train node's `model/`
 * folder, which becomes the trial's LoggedModel. History: the rows of `history.json` that have an `epoch`.
 */
export function readNodeFolder(root: string, options: ReadNodeOptions): NodeFolder {
  if (!existsSync(root)) return { root, artifacts: [], history: [] };
  const files = readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'));
  const datasets = new Set(files.filter((name) => /^[^/]+\.bin$/.test(name)).map((name) => name.slice(0, -4)));
  const model = options.kind === 'train' ? readModelFacts(path.join(root, 'model'), options) : undefined;
  const artifacts = files
    .filter((name) => name !== 'result.json' && !datasets.has(name.replace(/\.(bin|json)$/, '')))
    .filter((name) => !(model && name.startsWith('model/')))
    .filter((name) => statSync(path.join(root, name)).size <= MAX_ARTIFACT_BYTES)
    .sort();
  const folder: NodeFolder = { root, artifacts, history: readHistory(path.join(root, 'history.json')) };
  if (model) folder.model = model;
  if (options.kind === 'split') folder.datasets = memo(() => readSplitParts(root));
  return folder;
}

function readHistory(file: string): NodeFolder['history'] {
  if (!existsSync(file)) return [];
  try {
    const rows = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>[];
    return rows.flatMap(({ epoch, ...rest }) => {
      if (typeof epoch !== 'number') return [];
      const metrics = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, v === null ? NaN : Number(v)]));
      return [{ epoch, metrics }];
    });
  } catch {
    return [];
  }
}

/** The model folder train writes (tfjs layers files + `classes.json`), or undefined when it is not complete. */
function readModelFacts(dir: string, options: ReadNodeOptions): ModelFacts | undefined {
  if (!existsSync(path.join(dir, 'model.json')) || !existsSync(path.join(dir, 'classes.json'))) return undefined;
  try {
    const meta = JSON.parse(readFileSync(path.join(dir, 'classes.json'), 'utf8')) as {
      classes: string[];
      shape: [number, number, number];
      model?: string;
    };
    const modelJson = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as { generatedBy?: string };
    const family = meta.model ?? 'basic-cnn';
    const files = readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
      .sort();
    return {
      root: dir,
      files,
      classes: meta.classes,
      shape: meta.shape,
      family,
      tfjsVersion: /v(\d+\.\d+\.\d+)/.exec(modelJson.generatedBy ?? '')?.[1],
      preprocess: options.preprocessOf?.(family),
    };
  } catch {
    return undefined;
  }
}

/** A split's `train` and `val` parts: classes, counts per class, image shape and a content hash. */
function readSplitParts(root: string): DatasetFacts[] {
  return ['train', 'val'].flatMap((part) => {
    const header = path.join(root, `${part}.json`);
    const data = path.join(root, `${part}.bin`);
    if (!existsSync(header) || !existsSync(data)) return [];
    const text = readFileSync(header);
    const parsed = JSON.parse(text.toString('utf8')) as {
      classes: string[];
      shape: [number, number, number];
      labels: number[];
    };
    const counts = parsed.classes.map((_, k) => parsed.labels.filter((label) => label === k).length);
    const hash = createHash('sha256').update(text);
    hashFile(data, hash);
    return [{ part, digest: hash.digest('hex').slice(0, 16), classes: parsed.classes, counts, shape: parsed.shape }];
  });
}

// In chunks: a data set of large images is hundreds of megabytes.
function hashFile(file: string, hash: ReturnType<typeof createHash>): void {
  const fd = openSync(file, 'r');
  const buffer = Buffer.alloc(4 * 1024 * 1024);
  try {
    for (let read = readSync(fd, buffer); read > 0; read = readSync(fd, buffer)) hash.update(buffer.subarray(0, read));
  } finally {
    closeSync(fd);
  }
}

function memo<T>(compute: () => T): () => T {
  let value: { v: T } | undefined;
  return () => (value ??= { v: compute() }).v;
}
