import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../../helpers/run-cli.js';
import { copySample, pipelineYaml, ROOT, tempDir, writeFiles } from '../../helpers/temp-project.js';

/** Whether this process may make mount namespaces (root on Linux): read-only and full disks need one. */
const canMount = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs tmpfs /mnt']).status === 0;
if (!canMount)
  console.warn('workspace-disk: mount namespaces are not allowed here; the read-only and full-disk cases are skipped');

/** Runs the CLI in a mount namespace where `setup` (a shell line, `$0` = `dir`) has mounted something first. */
async function runMounted(setup: string, dir: string, args: string[]) {
  const cli = startCli(args, { wrap: ['unshare', '-m', 'sh', '-c', `${setup} && exec "$@"`, dir] });
  return { code: await cli.exited, output: cli.output() };
}

describe('a workspace the disk will not let a run write to', () => {
  const dir = tempDir('disk-');
  const sweep = path.join(dir, 'sweep.yaml');
  const ws = path.join(dir, 'ws');

  beforeAll(async () => {
    copySample(path.join(dir, 'data'), 6);
    writeFiles(dir, {
      'pipeline.yaml': pipelineYaml('data'),
      'sweep.yaml': 'pipeline: pipeline.yaml\ngrid:\n  train.optimizer: [adam]\n',
    });
    const run = await runCli(['run', sweep, '--workspace', ws]);
    expect(run.code, run.stderr).toBe(0);
  });

  it('under /proc: one line and exit 5 at once (recursive mkdir never returns there)', async () => {
    const run = await runCli(['run', sweep, '--workspace', '/proc/pipeline-ws']);
    expect(run.code).toBe(5);
    expect(run.stderr).toBe(
      'pipeline: --workspace /proc/pipeline-ws: cannot write there (ENOENT: a folder cannot be created there); pick another with --workspace or PIPELINE_WORKSPACE (pipeline status reads a workspace without writing)\n',
    );
  });

  it.skipIf(!canMount)(
    'read-only (a finished sweep): run is one line, exit 5; status still shows the results',
    async () => {
      const ro = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0"';
      const run = await runMounted(ro, ws, ['run', sweep, '--workspace', ws]);
      expect(run.code).toBe(5);
      expect(run.output).toContain(
        `pipeline: --workspace ${ws}: cannot write there (EROFS: the file system is read-only)`,
      );
      expect(run.output).not.toMatch(/\n\s+at /);
      const status = await runMounted(ro, ws, ['status', sweep, '--workspace', ws]);
      expect(status.code).toBe(0);
      expect(status.output).toMatch(/\* +t01 +adam +done/);
    },
  );

  it.skipIf(!canMount)('full before the run: one line, exit 5, nothing written', async () => {
    const full = 'mount -t tmpfs -o size=16k tmpfs "$0" && (head -c 16384 /dev/zero > "$0/fill"; true)';
    const target = tempDir('full-');
    const run = await runMounted(full, target, ['run', sweep, '--workspace', path.join(target, 'ws')]);
    expect(run.code).toBe(5);
    expect(run.output).toContain('cannot write there (ENOSPC: no space left on the device)');
  });

  it.skipIf(!canMount)(
    'full during the run: the failing stage is named with the reason, no trace, no torn journal line',
    () => {
      const target = tempDir('filling-');
      // Room for the probe and the first nodes, not for everything; the checks run inside, while the tmpfs exists.
      const check = `const fs=require('fs');let torn=0;try{for(const l of fs.readFileSync('ws/tracking/journal.jsonl','utf8').split('\\n'))if(l)try{JSON.parse(l)}catch{torn++}}catch{}console.log('TORN='+torn+' TMP='+fs.readdirSync('ws/tmp').length)`;
      const script = [
        'mount -t tmpfs -o size=60k tmpfs "$0" && cd "$0"',
        `"$1" "$2" run "$3" --workspace ws; echo "EXIT=$?"`,
        `"$1" -e "${check.replaceAll('"', '\\"')}"`,
      ].join('; ');
      const result = spawnSync(
        'unshare',
        ['-m', 'sh', '-c', script, target, process.execPath, path.join(ROOT, 'dist', 'cli.js'), sweep],
        {
          env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
        },
      );
      const output = `${result.stdout.toString()}${result.stderr.toString()}`;
      expect(output).toMatch(/EXIT=[15]\n/);
      expect(output).toMatch(/ENOSPC/);
      expect(output).not.toMatch(/\n\s+at /);
      expect(output).toContain('TORN=0 TMP=0');
    },
  );
});
