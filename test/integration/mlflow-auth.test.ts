import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MLFLOW_VENV, startMlflowServer, type MlflowServer } from '../helpers/mlflow-server.js';
import { oracleRuns } from '../helpers/mlflow-oracle.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { trackedProject } from '../helpers/tracked-project.js';
import { ROOT, tempDir } from '../helpers/temp-project.js';

const mlflowSkip = inject('mlflowSkip');

/** Why MLflow's basic-auth app cannot start here (`mlflow[auth]` brings Flask-WTF), or undefined when it can. */
function authUnavailable(): string | undefined {
  if (mlflowSkip) return mlflowSkip;
  try {
    execFileSync(path.join(MLFLOW_VENV, 'bin', 'python'), ['-c', 'import flask_wtf'], { stdio: 'ignore' });
    return undefined;
  } catch {
    const reason = `${MLFLOW_VENV} lacks mlflow[auth] (bash .ci/run installs it)`;
    if (process.env.CI) throw new Error(`MLflow auth tests cannot run under CI: ${reason}`);
    return reason;
  }
}
const skipReason = authUnavailable();
if (skipReason) console.warn(`MLflow auth tests skipped: ${skipReason}`);

const PASSWORD = 'pa55-W0rd:with@odd/chars';
const TOKEN = 'token-5ecret-4711';
const ADMIN = { MLFLOW_TRACKING_USERNAME: 'admin', MLFLOW_TRACKING_PASSWORD: PASSWORD };

/** Everything the CLI printed and stored in the workspace, to check no secret leaked into it. */
function everythingWritten(result: CliResult, ws: string): string {
  const tracking = path.join(ws, 'tracking');
  const files = readdirSync(tracking, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
  const stored = files.map((entry) => readFileSync(path.join(entry.parentPath, entry.name), 'utf8')).join('\n');
  return `${result.stdout}\n${result.stderr}\n${stored}`;
}

describe.skipIf(skipReason !== undefined)('MLflow with authentication (mlflow server --app-name basic-auth)', () => {
  let server: MlflowServer;
  beforeAll(async () => {
    // MLflow's basic auth, plus a bearer token as managed MLflow services take one (test/fixtures/mlflow). Checked
    // credentials are cached, or every request pays for a PBKDF2 hash.
    const dir = tempDir('pipeline-mlflow-auth-');
    const config = path.join(dir, 'basic_auth.ini');
    writeFileSync(
      config,
      `[mlflow]\ndefault_permission = READ\ndatabase_uri = sqlite:///${path.join(dir, 'auth.db')}\nadmin_username = admin\nauthorization_function = token_auth:authenticate\nauth_cache_ttl_seconds = 300\n`,
    );
    server = await startMlflowServer({
      appName: 'basic-auth',
      env: {
        MLFLOW_AUTH_CONFIG_PATH: config,
        MLFLOW_AUTH_ADMIN_PASSWORD: PASSWORD,
        MLFLOW_FLASK_SERVER_SECRET_KEY: 'csrf-key-for-tests',
        PYTHONPATH: path.join(ROOT, 'test', 'fixtures', 'mlflow'),
        PIPELINE_TEST_MLFLOW_TOKEN: TOKEN,
        PIPELINE_TEST_MLFLOW_ADMIN: 'admin',
      },
    });
  });
  afterAll(() => server.stop());

  const project = trackedProject(1);
  const ws = ['--workspace', project.ws];

  it('basic auth from MLFLOW_TRACKING_USERNAME/PASSWORD: the sweep, its model and data sets reach the server', async () => {
    const result = await runCli(['run', project.sweep, ...ws, '--tracking-uri', server.uri, '--experiment', 'auth'], {
      env: ADMIN,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/tracking:/);
    const runs = oracleRuns(server.uri, 'auth', ADMIN);
    expect(runs).toHaveLength(3);
    expect(runs.filter((r) => r.parent).map((r) => [r.status, r.inputs.length, r.outputs.length])).toEqual([
      ['FINISHED', 2, 1],
      ['FINISHED', 2, 1],
    ]);
    expect(everythingWritten(result, project.ws)).not.toContain(PASSWORD);
  });

  it('a bearer token from MLFLOW_TRACKING_TOKEN registers and fetches a model', async () => {
    const token = { MLFLOW_TRACKING_TOKEN: TOKEN, MLFLOW_TRACKING_URI: server.uri };
    const register = await runCli(['register', project.sweep, 'auth-model', ...ws, '--experiment', 'auth'], {
      env: token,
    });
    expect(register.code, register.stderr).toBe(0);
    expect(register.stdout).toBe('models:/auth-model/1\n');
    const image = path.join(project.dir, 'data', 'with_mask');
    const predict = await runCli(['predict', image, '--model', 'models:/auth-model/1', '--json'], { env: token });
    expect(predict.code, predict.stderr).toBe(0);
    expect((JSON.parse(predict.stdout) as { predictions: unknown[] }).predictions).toHaveLength(16);
    expect(`${register.stderr}${predict.stdout}${predict.stderr}`).not.toContain(TOKEN);
  });

  it('refused or missing credentials: one line naming where they came from, exit 4, no secret, nothing lost', async () => {
    const other = path.join(project.dir, 'ws-refused');
    const wrong = { MLFLOW_TRACKING_USERNAME: 'admin', MLFLOW_TRACKING_PASSWORD: 'wrong-Secret-99' };
    const run = await runCli(['run', project.sweep, '--workspace', other, '--tracking-uri', server.uri], {
      env: wrong,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /tracking: MLflow at http:\S+ answered 401 .*refused the credentials from MLFLOW_TRACKING_USERNAME\/MLFLOW_TRACKING_PASSWORD/,
    );
    expect(run.stderr).toMatch(/journal records not in MLflow yet; send them with: pipeline sync/);
    expect(everythingWritten(run, other)).not.toContain('wrong-Secret-99');

    const sync = (env: Record<string, string>, uri = server.uri) =>
      runCli(['sync', '--workspace', other, '--tracking-uri', uri], { env });
    const cases: [CliResult, RegExp][] = [
      [await sync(wrong), /refused the credentials from MLFLOW_TRACKING_USERNAME\/MLFLOW_TRACKING_PASSWORD$/],
      [
        await sync({}),
        /it needs credentials: set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN$/,
      ],
      [await sync({ MLFLOW_TRACKING_TOKEN: 'not-the-token' }), /refused the credentials from MLFLOW_TRACKING_TOKEN$/],
      [
        await sync({}, server.uri.replace('http://', 'http://admin:wrong-Secret-99@')),
        /refused the credentials from the user and password in the URL$/,
      ],
    ];
    for (const [result, message] of cases) {
      expect(result.code, result.stderr).toBe(4);
      expect(result.stderr.trim().split('\n'), result.stderr).toHaveLength(1);
      expect(result.stderr.trim()).toMatch(message);
      expect(result.stderr).not.toMatch(/wrong-Secret-99|not-the-token/);
    }
    const half = await sync({ MLFLOW_TRACKING_USERNAME: 'admin' });
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(/MLFLOW_TRACKING_USERNAME is set but MLFLOW_TRACKING_PASSWORD is not/);
  });

  it('credentials in the URL work, and are printed and stored nowhere: the refused sweep gets through', async () => {
    const other = path.join(project.dir, 'ws-refused');
    const url = server.uri.replace('http://', `http://admin:${encodeURIComponent(PASSWORD)}@`);
    const sync = await runCli(['sync', '--workspace', other, '--tracking-uri', url]);
    expect(sync.code, sync.stderr).toBe(0);
    expect(sync.stderr).toMatch(new RegExp(`3 runs created in ${server.uri} `));
    const runs = oracleRuns(server.uri, 'tiny', ADMIN);
    expect(runs.map((r) => r.status)).toEqual(['FINISHED', 'FINISHED', 'FINISHED']);
    expect(everythingWritten(sync, other)).not.toContain(encodeURIComponent(PASSWORD));
    expect(everythingWritten(sync, other)).not.toContain(PASSWORD);
  });
});
