import type * as tf from '@tensorflow/tfjs';
import type { FaceModels } from '../faces/face-models.js';
import { cropFaces, detectSceneFaces, type DetectedFace, type SceneSearchOptions } from '../faces/scene-faces.js';
import type { RgbImage } from '../image/rgb-image.js';
import type { ModelMeta } from '../train/model-io.js';
import { classifyImages } from '../train/predict.js';

/** A face found in a photo and what the classifier makes of it. */
export interface ClassifiedFace extends DetectedFace {
  /** Class name, from the model's `classes.json`. */
  label: string;
  /** The classifier's probability for that class. */
  confidence: number;
}

/** A trained classifier with its meta, as `loadModel` and `readModelMeta` return them. */
export interface FaceClassifier {
  model: tf.LayersModel;
  meta: ModelMeta;
}

/**
 * Finds the faces in a photo and classifies each: cropped with the training crops' margin, stretched to the model's
 * input size as ingest does, and classified by the same code as evaluate and `pipeline predict`
 * ({@link classifyImages}), so any model family in the registry, 2- or 3-class, works.
 */
export async function classifyPhoto(
  faceModels: FaceModels,
  classifier: FaceClassifier,
  image: RgbImage,
  options: SceneSearchOptions,
): Promise<ClassifiedFace[]> {
  const faces = await detectSceneFaces(faceModels, image, options);
  if (faces.length === 0) return [];
  const { meta } = classifier;
  const crops = await cropFaces(
    image,
    faces.map((face) => face.box),
    meta.shape[0],
  );
  const { decisions } = await classifyImages(classifier.model, meta, crops);
  return faces.map((face, i) => ({
    ...face,
    label: meta.classes[decisions[i]?.label ?? 0] ?? '?',
    confidence: decisions[i]?.confidence ?? 0,
  }));
}
