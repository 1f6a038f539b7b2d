import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';

/** One face the detector found: its score and its box in the input's pixels. */
export interface FaceDetectionLike {
  score: number;
  box: { x: number; y: number; width: number; height: number };
}

/** The part of face-api's SSD MobileNet v1 detector this project uses. */
export interface FaceDetectorNet {
  locateFaces(input: tf.Tensor3D, options: { minConfidence: number; maxResults: number }): Promise<FaceDetectionLike[]>;
}

/** The part of face-api's 68-point landmark net this project uses. */
export interface LandmarkNet {
  /** `[batch, 136]`: x0, y0, x1, y1, ... relative to each input's width and height. */
  forwardInput(input: unknown): tf.Tensor2D;
}

/** The two face-api models, running on this process's tfjs engine and backend. */
export interface FaceModels {
  detector: FaceDetectorNet;
  landmarks: LandmarkNet;
  /** Wraps images for {@link LandmarkNet.forwardInput}; face-api pads each to a square and resizes it. */
  toNetInput(images: tf.Tensor3D[]): unknown;
}

interface WeightsManifestGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

/** The exports of face-api's ES module that are used here; its bundled type file describes another tfjs copy. */
interface FaceApiModule {
  tf: { engine(): unknown };
  SsdMobilenetv1: new () => FaceDetectorNet & { loadFromWeightMap(map: tf.NamedTensorMap): void };
  FaceLandmark68Net: new () => LandmarkNet & { loadFromWeightMap(map: tf.NamedTensorMap): void };
  NetInput: new (inputs: tf.Tensor3D[]) => unknown;
}

const require = createRequire(import.meta.url);
const BUNDLE = '@vladmandic/face-api/dist/face-api.esm-nobundle.js';
const TFJS_IMPORT = '"@tensorflow/tfjs/dist/index.js"';
const BROWSER_BACKEND_IMPORTS = /"@tensorflow\/tfjs-backend-(webgl|wasm)\/dist\/index\.js"/g;

let loaded: Promise<FaceModels> | undefined;

/**
 * Loads face-api's SSD MobileNet v1 face detector and 68-point landmark model from the weights shipped in its npm
 * package (never from the network). Call after the tfjs backend is chosen; the models run on that backend.
 * Loaded once per process.
 */
export function loadFaceModels(): Promise<FaceModels> {
  loaded ??= loadModels();
  return loaded;
}

async function loadModels(): Promise<FaceModels> {
  const faceapi = await importFaceApi();
  const modelDir = path.join(path.dirname(require.resolve(BUNDLE)), '..', 'model');
  const detector = new faceapi.SsdMobilenetv1();
  detector.loadFromWeightMap(await readWeightMap(modelDir, 'ssd_mobilenetv1_model'));
  const landmarks = new faceapi.FaceLandmark68Net();
  landmarks.loadFromWeightMap(await readWeightMap(modelDir, 'face_landmark_68_model'));
  return { detector, landmarks, toNetInput: (images) => new faceapi.NetInput(images) };
}

/**
 * Imports face-api's `esm-nobundle` build wired to this project's tfjs. As shipped, that build imports tfjs's browser
 * ES build plus the webgl and wasm backends (wasm is not installed, and neither runs in Node). We rewrite those three
 * import specifiers — tfjs to the module `import '@tensorflow/tfjs'` gives us, the browser backends to empty
 * modules — and import the text as a data: URL. No loader hooks and no tfjs-node requirement, and it works the same
 * under vitest. The engine check makes a silent second tfjs instance impossible.
 */
async function importFaceApi(): Promise<FaceApiModule> {
  let text = await readFile(require.resolve(BUNDLE), 'utf8');
  if (!text.includes(TFJS_IMPORT)) throw new Error(`${BUNDLE} no longer imports ${TFJS_IMPORT}; update face-models.ts`);
  const tfUrl = pathToFileURL(require.resolve('@tensorflow/tfjs')).href;
  text = text.replace(TFJS_IMPORT, JSON.stringify(tfUrl)).replace(BROWSER_BACKEND_IMPORTS, '"data:text/javascript,"');
  const url = `data:text/javascript;base64,${Buffer.from(text).toString('base64')}`;
  const faceapi = (await import(/* @vite-ignore */ url)) as FaceApiModule;
  if (faceapi.tf.engine() !== tf.engine()) throw new Error('face-api loaded a second tfjs engine');
  return faceapi;
}

/** Reads a tfjs weights manifest and its shards from `dir` into named tensors (dequantised). */
async function readWeightMap(dir: string, model: string): Promise<tf.NamedTensorMap> {
  const manifestFile = path.join(dir, `${model}-weights_manifest.json`);
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as WeightsManifestGroup[];
  const shards = await Promise.all(manifest.flatMap((group) => group.paths.map((p) => readFile(path.join(dir, p)))));
  const data = Buffer.concat(shards);
  const buffer = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  return tf.io.decodeWeights(
    buffer,
    manifest.flatMap((group) => group.weights),
  );
}
