import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError } from '../../errors.js';

/** Images as one uint8 NHWC buffer plus labels; stored as `dataset.json` + `images.bin` for fast loading. */
export interface Dataset {
  classes: string[];
  /** [height, width, channels] of every image. */
  shape: [number, number, number];
  images: Uint8Array;
  labels: number[];
  /** Source file of each image, relative to the data folder. */
  files: string[];
}

interface DatasetHeader {
  format: 'pipeline-dataset/1';
  classes: string[];
  shape: [number, number, number];
  count: number;
  labels: number[];
  files: string[];
}

/** Writes a dataset into `dir` (as `<name>.json` + `<name>.bin`). */
export async function writeDataset(dir: string, dataset: Dataset, name = 'dataset'): Promise<void> {
  const header: DatasetHeader = {
    format: 'pipeline-dataset/1',
    classes: dataset.classes,
    shape: dataset.shape,
    count: dataset.labels.length,
    labels: dataset.labels,
    files: dataset.files,
  };
  await writeFile(path.join(dir, `${name}.bin`), dataset.images);
  await writeFile(path.join(dir, `${name}.json`), JSON.stringify(header));
}

/** Reads a dataset written by {@link writeDataset}, checking the buffer matches the header. */
export async function readDataset(dir: string, name = 'dataset'): Promise<Dataset> {
  const header = JSON.parse(await readFile(path.join(dir, `${name}.json`), 'utf8')) as DatasetHeader;
  const images = new Uint8Array(await readFile(path.join(dir, `${name}.bin`)));
  const [height, width, channels] = header.shape;
  if (images.length !== header.count * height * width * channels) {
    throw new PipelineError('STORE_INVALID', `${dir}/${name}.bin does not match its header`);
  }
  return { classes: header.classes, shape: header.shape, images, labels: header.labels, files: header.files };
}

/** The images at `indices`, as a new dataset. */
export function subsetDataset(dataset: Dataset, indices: readonly number[]): Dataset {
  const [height, width, channels] = dataset.shape;
  const size = height * width * channels;
  const images = new Uint8Array(indices.length * size);
  indices.forEach((index, at) => images.set(dataset.images.subarray(index * size, (index + 1) * size), at * size));
  return {
    classes: dataset.classes,
    shape: dataset.shape,
    images,
    labels: indices.map((index) => dataset.labels[index] ?? -1),
    files: indices.map((index) => dataset.files[index] ?? ''),
  };
}
