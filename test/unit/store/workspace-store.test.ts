import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { outputPath, WorkspaceStore } from '../../../src/store/workspace-store.js';
import { tempDir } from '../../helpers/temp-project.js';

describe('WorkspaceStore', () => {
  const record = (cacheKey: string) => ({
    cacheKey,
    stage: 's',
    kind: 'split',
    params: {},
    metrics: { x: 1 },
    summary: {},
    startedAt: '',
    finishedAt: '',
    durationMs: 0,
  });

  it('shows a node only once committed, and replaces an older output atomically', async () => {
    const store = new WorkspaceStore(tempDir());
    const build = await store.begin('k1');
    writeFileSync(path.join(build, 'out.txt'), 'one');
    expect(store.has('k1')).toBe(false);
    await store.commit(build, record('k1'));
    expect(store.has('k1')).toBe(true);
    expect((await store.readRecord('k1'))?.metrics).toEqual({ x: 1 });
    const again = await store.begin('k1');
    writeFileSync(path.join(again, 'out2.txt'), 'two');
    await store.commit(again, record('k1'));
    expect(readdirSync(store.nodeDir('k1')).sort()).toEqual(['out2.txt', 'result.json']);
    expect(readdirSync(path.join(store.root, 'tmp'))).toEqual([]);
  });

  it('a build that is discarded leaves nothing behind', async () => {
    const store = new WorkspaceStore(tempDir());
    const build = await store.begin('k2');
    await store.discard(build);
    expect(existsSync(build)).toBe(false);
    expect(store.has('k2')).toBe(false);
  });

  it('refuses output paths that escape the node folder', () => {
    expect(outputPath('/ws/nodes/k', 'model/model.json')).toBe('/ws/nodes/k/model/model.json');
    expect(() => outputPath('/ws/nodes/k', '../other/x')).toThrow(/output path '\.\.\/other\/x' escapes the workspace/);
    expect(() => outputPath('/ws/nodes/k', '/etc/passwd')).toThrow(/escapes the workspace/);
  });
});
