import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataFolder, fingerprintFolder, portableDataPath, publishDataFolder } from '../../../src/store/data-folder.js';
import { WorkspaceStore } from '../../../src/store/workspace-store.js';
import { tempDir, writeFiles } from '../../helpers/temp-project.js';

const files = { 'a/1.jpg': 'one', 'a/2.jpg': 'two', 'b/x/3.png': 'three' };

describe('data folders', () => {
  it('fingerprints every file by relative path and bytes, in sorted order (the cache keys of ingest nodes)', () => {
    const dir = writeFiles(tempDir(), files);
    // The hash planSweep has always used: path, NUL, bytes, NUL, per file in sorted order.
    const expected = createHash('sha256');
    for (const name of Object.keys(files).sort())
      expected
        .update(name)
        .update('\0')
        .update(readFileSync(path.join(dir, name)))
        .update('\0');
    const before = fingerprintFolder(dir);
    expect(before).toBe(expected.digest('hex'));
    writeFileSync(path.join(dir, 'a/2.jpg'), 'changed');
    expect(fingerprintFolder(dir)).not.toBe(before);
  });

  it('publishes a copy under its fingerprint once, reachable as ../../data/<fingerprint> from two levels down', async () => {
    const source = writeFiles(tempDir(), files);
    const store = new WorkspaceStore(tempDir());
    const fingerprint = fingerprintFolder(source);
    const [first, second] = await Promise.all([
      publishDataFolder(store, source, fingerprint),
      publishDataFolder(store, source, fingerprint),
    ]);
    expect(first).toBe(dataFolder(store, fingerprint));
    expect(second).toBe(first);
    expect(fingerprintFolder(first)).toBe(fingerprint);
    const nodeDir = store.nodeDir('k');
    expect(path.resolve(nodeDir, portableDataPath(fingerprint))).toBe(first);
    expect(path.resolve(first, portableDataPath(fingerprint))).toBe(first);
  });

  it('refuses a folder that no longer has the fingerprint it was planned with, and leaves nothing behind', async () => {
    const source = writeFiles(tempDir(), files);
    const store = new WorkspaceStore(tempDir());
    const planned = fingerprintFolder(source);
    writeFileSync(path.join(source, 'a/1.jpg'), 'edited after planning');
    await expect(publishDataFolder(store, source, planned)).rejects.toMatchObject({ code: 'DATA_INVALID' });
    expect(existsSync(dataFolder(store, planned))).toBe(false);
  });
});
