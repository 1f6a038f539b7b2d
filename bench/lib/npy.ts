import { readFile, writeFile } from 'node:fs/promises';

/**
 * Minimal NumPy `.npy` (format 1.0) reader/writer for C-ordered uint8 arrays. The benchmark hands the exact same
 * pixels to the tfjs workers and to Keras through these files, so both sides train on identical bytes.
 */
const MAGIC = Buffer.from([0x93, ...Buffer.from('NUMPY'), 1, 0]);

export interface U8Array {
  data: Uint8Array;
  shape: number[];
}

export async function writeNpyU8(file: string, { data, shape }: U8Array): Promise<void> {
  const expected = shape.reduce((product, dim) => product * dim, 1);
  if (expected !== data.length)
    throw new Error(`npy: shape ${shape.join('x')} needs ${expected} bytes, got ${data.length}`);
  // A 1-tuple needs its trailing comma in Python syntax: (5,).
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '|u1', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // The spec pads the header with spaces so that the data starts at a multiple of 64 bytes, ending in '\n'.
  const unpadded = MAGIC.length + 2 + dict.length + 1;
  const header = dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const length = Buffer.alloc(2);
  length.writeUInt16LE(header.length);
  await writeFile(file, Buffer.concat([MAGIC, length, Buffer.from(header, 'latin1'), data]));
}

export async function readNpyU8(file: string): Promise<U8Array> {
  const bytes = await readFile(file);
  if (!bytes.subarray(0, 6).equals(MAGIC.subarray(0, 6))) throw new Error(`${file}: not an .npy file`);
  const headerLength = bytes.readUInt16LE(8);
  const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
  if (!header.includes("'descr': '|u1'") || header.includes("'fortran_order': True")) {
    throw new Error(`${file}: expected a C-ordered uint8 array, header is ${header.trim()}`);
  }
  const shapeText = /'shape': \(([^)]*)\)/.exec(header)?.[1] ?? '';
  const shape = shapeText
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map(Number);
  return { data: new Uint8Array(bytes.subarray(10 + headerLength)), shape };
}
