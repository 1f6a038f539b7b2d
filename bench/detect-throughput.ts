/**
 * Throughput of `pipeline detect` on face-api's six demo group photos (1920 px wide): decode, find faces, crop and
 * classify them, draw the annotated PNG — in one process, models loaded once, after one warm-up photo. Reports
 * images/s and faces/s (wall) per phase and overall, plus faces per CPU-second. With `--truth`, also the
 * truth-vs-prediction table of the same model on the masked test scenes. Writes bench/results/detect-<name>.json.
 *
 *   npx tsx bench/detect-throughput.ts --sweep experiments/sweeps/synthesize-3class.yaml --set train.epochs=20 \
 *     [--workspace .pipeline] [--trial best] [--rounds 3] [--name 3class] [--backend tensorflow]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { resolveModel } from '../src/cli/resolve-model.js';
import { selectBackend, type BackendChoice } from '../src/ml/backend.js';
import { classifyPhoto, type FaceClassifier } from '../src/ml/detect/classify-photo.js';
import { loadFaceModels, type FaceModels } from '../src/ml/faces/face-models.js';
import { readPhoto } from '../src/ml/image/read-photo.js';
import { emptyTruthTable, matchFaces, tallyMatches, type TruthFace } from '../src/ml/metrics/match-faces.js';
import { loadModel, readModelMeta } from '../src/ml/train/model-io.js';
import { annotateFaces } from '../src/render/annotate-faces.js';
import { DETECT_MAX_SIDE } from '../src/cli/detect-command.js';
import { readTruthFile } from '../src/cli/detect-truth.js';

const REPO_ROOT = path.resolve(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
const DEMO = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
const SCENES = path.join(REPO_ROOT, 'test/fixtures/detect/scenes');
const SEARCH = { minConfidence: 0.5, maxFaces: 50 };

function parseBenchArgs() {
  const { values } = parseArgs({
    options: {
      sweep: { type: 'string', default: 'experiments/sweeps/synthesize-3class.yaml' },
      set: { type: 'string', multiple: true, default: [] },
      workspace: { type: 'string', default: '.pipeline' },
      trial: { type: 'string', default: 'best' },
      rounds: { type: 'string', default: '3' },
      name: { type: 'string', default: 'throughput' },
      backend: { type: 'string', default: 'tensorflow' },
    },
  });
  return { ...values, rounds: Number(values.rounds), backend: values.backend as BackendChoice };
}

const phases = { decode: 0, detectClassify: 0, annotate: 0 };

async function timed<T>(phase: keyof typeof phases, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await work();
  phases[phase] += (performance.now() - start) / 1000;
  return result;
}

async function detectOne(file: string, faceModels: FaceModels, classifier: FaceClassifier) {
  const photo = await timed('decode', () => readPhoto(file, DETECT_MAX_SIDE));
  if (typeof photo === 'string') throw new Error(`${file}: ${photo}`);
  const faces = await timed('detectClassify', () => classifyPhoto(faceModels, classifier, photo.image, SEARCH));
  await timed('annotate', () => annotateFaces(photo.image, faces));
  return faces;
}

/** The truth table of the model on the masked scenes (their truth file for the model's class count). */
async function sceneAccuracy(faceModels: FaceModels, classifier: FaceClassifier) {
  const classes = classifier.meta.classes;
  const names = ['1', '2', '3', '4', '5', '6'].map((n) => `scene${n}.jpg`).concat('grey-scene1.jpg', 'no-face.jpg');
  const truthFile = path.join(SCENES, `truth-${classes.length}class.csv`);
  const truth = await readTruthFile(truthFile, names, classes);
  const table = emptyTruthTable(classes);
  for (const name of names) {
    const photo = await readPhoto(path.join(SCENES, name), DETECT_MAX_SIDE);
    if (typeof photo === 'string') throw new Error(`${name}: ${photo}`);
    const faces = await classifyPhoto(faceModels, classifier, photo.image, SEARCH);
    const expected: TruthFace[] = truth.get(name) ?? [];
    tallyMatches(table, expected, faces, matchFaces(expected, faces));
  }
  return { truthFile: path.relative(REPO_ROOT, truthFile), ...table };
}

async function main(): Promise<void> {
  const args = parseBenchArgs();
  const backend = await selectBackend(args.backend);
  const resolved = await resolveModel({
    sweep: args.sweep,
    trial: args.trial,
    workspace: args.workspace,
    set: args.set,
  });
  const meta = await readModelMeta(resolved.dir);
  const classifier = { model: await loadModel(resolved.dir), meta };
  const faceModels = await loadFaceModels();
  const files = [1, 2, 3, 4, 5, 6].map((n) => path.join(DEMO, `sample${n}.jpg`));
  await detectOne(files[0] ?? '', faceModels, classifier); // warm-up: tracing and first allocations
  for (const key of Object.keys(phases) as (keyof typeof phases)[]) phases[key] = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  let faces = 0;
  for (let round = 0; round < args.rounds; round++) {
    for (const file of files) faces += (await detectOne(file, faceModels, classifier)).length;
  }
  const wall = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  const images = files.length * args.rounds;
  const result = {
    generatedAt: new Date().toISOString(),
    command: `npx tsx bench/detect-throughput.ts --sweep ${args.sweep} ${args.set.map((s) => `--set ${s}`).join(' ')} --trial ${args.trial} --rounds ${args.rounds} --name ${args.name}`,
    machine: { cpuModel: os.cpus()[0]?.model ?? '?', cores: os.cpus().length, node: process.version },
    loadAverage: os.loadavg(),
    backend,
    model: { label: resolved.label, family: meta.model, classes: meta.classes, inputShape: meta.shape },
    photos: { folder: 'node_modules/@vladmandic/face-api/demo', files: files.map((f) => path.basename(f)) },
    images,
    faces,
    wallSeconds: wall,
    cpuSeconds,
    imagesPerSecond: images / wall,
    facesPerSecond: faces / wall,
    facesPerCpuSecond: faces / cpuSeconds,
    phaseSeconds: phases,
    sceneAccuracy: await sceneAccuracy(faceModels, classifier),
  };
  await resolved.release();
  const out = path.join(REPO_ROOT, 'bench/results', `detect-${args.name}.json`);
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  const { sceneAccuracy: acc } = result;
  console.log(
    `${backend}: ${images} images, ${faces} faces in ${wall.toFixed(1)} s → ${result.imagesPerSecond.toFixed(2)} images/s, ` +
      `${result.facesPerSecond.toFixed(2)} faces/s (${result.facesPerCpuSecond.toFixed(2)} per CPU-s); scenes: ` +
      `accuracy ${(acc.accuracy * 100).toFixed(1)}% of ${acc.matched} found, ${acc.truthFaces - acc.matched} missed`,
  );
}

await main();
