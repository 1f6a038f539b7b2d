import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildManifest, parseManifest, sha256Bytes, verifyFile } from '../../../src/store/file-manifest.js';
import { tempDir, writeFiles } from '../../helpers/temp-project.js';

describe('file manifests', () => {
  it('lists size and sha256 of every file by its /-separated relative path', async () => {
    const dir = writeFiles(tempDir(), { 'result.json': '{}', 'model/weights.bin': 'abc' });
    const manifest = await buildManifest(dir);
    expect(manifest.files).toEqual({
      'model/weights.bin': { size: 3, sha256: sha256Bytes(Buffer.from('abc')) },
      'result.json': { size: 2, sha256: sha256Bytes(Buffer.from('{}')) },
    });
    expect(sha256Bytes(Buffer.from('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    verifyFile(manifest, 'model/weights.bin', readFileSync(path.join(dir, 'model/weights.bin')), 'x');
  });

  it('rejects bytes that are not the listed file, and names that are not listed', async () => {
    const manifest = await buildManifest(writeFiles(tempDir(), { 'a.txt': 'abc' }));
    expect(() => verifyFile(manifest, 'a.txt', Buffer.from('abd'), 'store/nodes/k/1')).toThrow(
      /^store\/nodes\/k\/1\/a\.txt: downloaded 3 bytes with sha256 \w{12}…, the manifest lists 3 bytes, ba7816bf8f01…$/,
    );
    expect(() => verifyFile(manifest, 'b.txt', Buffer.from('abc'), 'w')).toThrow(/the manifest lists no such file/);
  });

  it('refuses manifests that are not one or that name files outside their folder', () => {
    expect(() => parseManifest('not json', 'w')).toThrow(/w\/manifest\.json is not a file manifest/);
    expect(() => parseManifest('{"files":{"../x":{"size":1,"sha256":"a"}}}', 'w')).toThrow(/not a file manifest/);
    expect(parseManifest('{"files":{"a/b":{"size":1,"sha256":"a"}}}', 'w').files['a/b']?.size).toBe(1);
  });
});
