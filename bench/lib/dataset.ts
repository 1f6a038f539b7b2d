import path from 'node:path';
import { decodeImage } from '../../src/ml/image/decode-image.js';
import { listFiles } from '../../src/ml/image/list-files.js';

/** Class folders in label order: label 0 is with_mask, label 1 is without_mask (the ingest stage sorts the same way). */
export const CLASS_FOLDERS = ['with_mask', 'without_mask'] as const;

export interface ImageSet {
  /** uint8 NHWC pixels, RGB. */
  images: Uint8Array;
  labels: Uint8Array;
  size: number;
}

/**
 * `count` images, alternating between the two classes so that any even-length prefix is balanced. A prefix is what
 * the pure-JS run trains on, so it sees the same pixels as the other backends, just fewer of them.
 */
export async function loadFaceMask(dataDir: string, count: number, size: number): Promise<ImageSet> {
  const queues = await Promise.all(CLASS_FOLDERS.map((folder) => listFiles(path.join(dataDir, folder))));
  const pixels: Uint8Array[] = [];
  const labels: number[] = [];
  for (let index = 0; index < count; index++) {
    const label = index % queues.length;
    pixels.push(await nextDecodable(queues[label] ?? [], size));
    labels.push(label);
  }
  return { images: new Uint8Array(Buffer.concat(pixels)), labels: Uint8Array.from(labels), size };
}

/** Takes files off the front of `queue` until one decodes; decodeImage reports unreadable files as a string. */
async function nextDecodable(queue: string[], size: number): Promise<Uint8Array> {
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    const decoded = await decodeImage(file, { fill: size });
    if (typeof decoded !== 'string') return decoded.data;
  }
  throw new Error('ran out of readable images in a class folder; ask for fewer with --images');
}
