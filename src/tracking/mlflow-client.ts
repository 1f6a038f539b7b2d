import { chunkBatch, type Batch } from './chunk-batch.js';
import type { MetricPoint } from './journal.js';
import { MlflowError, normalizeTrackingUri, sendRequest, type MlflowRequestOptions } from './mlflow-request.js';

const API = '/api/2.0/mlflow';
const ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts';

/** A run as MLflow describes it (the fields this tool reads). */
export interface MlflowRun {
  runId: string;
  experimentId: string;
  name: string;
  status: string;
  artifactUri: string;
  parentRunId: string | undefined;
  params: Record<string, string>;
  tags: Record<string, string>;
  /** Latest value of each metric. */
  metrics: Record<string, number>;
}

/** What `runs/create` needs. */
export interface CreateRunOptions {
  experimentId: string;
  name: string;
  startTime: number;
  tags: Record<string, string>;
}

interface RunJson {
  info: { run_id: string; experiment_id: string; run_name?: string; status: string; artifact_uri: string };
  data?: {
    params?: { key: string; value: string }[];
    tags?: { key: string; value: string }[];
    metrics?: { key: string; value: number }[];
  };
}

/**
 * A small typed client for MLflow's REST API (the npm `mlflow` package is abandoned). Every call names its run by
 * id, so any number of workers can log at once; there is no "active run".
 */
export class MlflowClient {
  readonly uri: string;
  private readonly options: MlflowRequestOptions;

  constructor(options: MlflowRequestOptions) {
    this.uri = normalizeTrackingUri(options.uri);
    this.options = { ...options, uri: this.uri };
  }

  /** The experiment's id, creating it if needed; a create that loses a race to another worker is not an error. */
  async ensureExperiment(name: string): Promise<string> {
    const found = await this.getExperimentByName(name);
    if (found) return found;
    try {
      const created = (await this.post('experiments/create', { name })) as { experiment_id: string };
      return created.experiment_id;
    } catch (error) {
      if (!(error instanceof MlflowError) || error.errorCode !== 'RESOURCE_ALREADY_EXISTS') throw error;
      const raced = await this.getExperimentByName(name);
      if (raced) return raced;
      throw error;
    }
  }

  /** The id of an active experiment with this name, or undefined; a deleted one is an error (runs would fail). */
  async getExperimentByName(name: string): Promise<string | undefined> {
    try {
      const query = new URLSearchParams({ experiment_name: name });
      const answer = (await this.get(`experiments/get-by-name?${query.toString()}`)) as {
        experiment: { experiment_id: string; lifecycle_stage?: string };
      };
      if (answer.experiment.lifecycle_stage === 'deleted') {
        throw new MlflowError(
          'rejected',
          `MLflow experiment '${name}' at ${this.uri} is deleted: restore it (mlflow experiments restore) or pick another --experiment`,
        );
      }
      return answer.experiment.experiment_id;
    } catch (error) {
      if (error instanceof MlflowError && error.errorCode === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw error;
    }
  }

  /** Creates a run (RUNNING) with its tags. */
  async createRun(options: CreateRunOptions): Promise<MlflowRun> {
    const answer = (await this.post('runs/create', {
      experiment_id: options.experimentId,
      run_name: options.name,
      start_time: options.startTime,
      tags: Object.entries(options.tags).map(([key, value]) => ({ key, value })),
    })) as { run: RunJson };
    return toRun(answer.run);
  }

  /** Sets a run's status and end time. */
  async updateRun(runId: string, status: string, endTime: number): Promise<void> {
    await this.post('runs/update', { run_id: runId, status, end_time: endTime });
  }

  /** Logs params, metrics and tags, split into as many requests as MLflow's limits need. */
  async logBatch(runId: string, batch: Batch): Promise<void> {
    for (const chunk of chunkBatch(batch)) await this.post('runs/log-batch', { run_id: runId, ...chunk });
  }

  /** Sets one tag (tags may be overwritten; params may not). */
  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.post('runs/set-tag', { run_id: runId, key, value });
  }

  /** One run by id. */
  async getRun(runId: string): Promise<MlflowRun> {
    const answer = (await this.get(`runs/get?${new URLSearchParams({ run_id: runId }).toString()}`)) as {
      run: RunJson;
    };
    return toRun(answer.run);
  }

  /** Every run matching an MLflow filter (e.g. "tags.`pipeline.sweep` = 'x'"), across pages. */
  async searchRuns(experimentIds: string[], filter = ''): Promise<MlflowRun[]> {
    const runs: MlflowRun[] = [];
    let pageToken: string | undefined;
    do {
      const answer = (await this.post('runs/search', {
        experiment_ids: experimentIds,
        filter,
        max_results: 1000,
        ...(pageToken ? { page_token: pageToken } : {}),
      })) as { runs?: RunJson[]; next_page_token?: string };
      runs.push(...(answer.runs ?? []).map(toRun));
      pageToken = answer.next_page_token;
    } while (pageToken);
    return runs;
  }

  /** Every logged point of one metric, across pages. */
  async getMetricHistory(runId: string, key: string): Promise<MetricPoint[]> {
    const points: MetricPoint[] = [];
    let pageToken: string | undefined;
    do {
      const query = new URLSearchParams({ run_id: runId, metric_key: key, max_results: '25000' });
      if (pageToken) query.set('page_token', pageToken);
      const answer = (await this.get(`metrics/get-history?${query.toString()}`)) as {
        metrics?: MetricPoint[];
        next_page_token?: string;
      };
      points.push(
        ...(answer.metrics ?? []).map((m) => ({ ...m, step: Number(m.step), timestamp: Number(m.timestamp) })),
      );
      pageToken = answer.next_page_token;
    } while (pageToken);
    return points;
  }

  /** Uploads one file through the server's artifact proxy to `<artifactPath>` of the run. */
  async uploadArtifact(artifactUri: string, artifactPath: string, data: Buffer): Promise<void> {
    const route = `${ARTIFACTS}/${this.proxyPath(artifactUri)}/${encodePath(artifactPath)}`;
    await sendRequest({ ...this.options, timeoutMs: this.options.timeoutMs ?? 300_000 }, 'PUT', route, data);
  }

  /** Downloads one artifact of a run through the proxy. */
  async downloadArtifact(artifactUri: string, artifactPath: string): Promise<Buffer> {
    const route = `${ARTIFACTS}/${this.proxyPath(artifactUri)}/${encodePath(artifactPath)}`;
    return (await sendRequest(this.options, 'GET', route, undefined, true)) as Buffer;
  }

  /** The files and folders directly under `path` in a run's artifacts. */
  async listArtifacts(runId: string, path = ''): Promise<{ path: string; isDir: boolean; size?: number }[]> {
    const answer = (await this.get(`artifacts/list?${new URLSearchParams({ run_id: runId, path }).toString()}`)) as {
      files?: { path: string; is_dir: boolean; file_size?: number | string }[];
    };
    return (answer.files ?? []).map((file) => ({
      path: file.path,
      isDir: file.is_dir,
      ...(file.file_size === undefined ? {} : { size: Number(file.file_size) }),
    }));
  }

  /**
   * The proxy route of a run's artifact root: `mlflow-artifacts:/1/<run>/artifacts` (or with a host) becomes
   * `1/<run>/artifacts`. Any other scheme means the server hands artifact storage to its clients, which this
   * client cannot write to.
   */
  proxyPath(artifactUri: string): string {
    const match = /^mlflow-artifacts:(?:\/\/[^/]*)?\/?(.*)$/.exec(artifactUri);
    if (!match?.[1]) {
      throw new MlflowError(
        'rejected',
        `MLflow at ${this.uri} does not proxy artifacts (the run's artifact location is ${artifactUri}): start it with --serve-artifacts (the default since MLflow 2), or use an experiment created with it`,
      );
    }
    return match[1].replace(/\/+$/, '');
  }

  private get(route: string): Promise<unknown> {
    return sendRequest(this.options, 'GET', `${API}/${route}`);
  }

  private post(route: string, body: unknown): Promise<unknown> {
    return sendRequest(this.options, 'POST', `${API}/${route}`, body);
  }
}

function encodePath(artifactPath: string): string {
  return artifactPath.split('/').map(encodeURIComponent).join('/');
}

function toRun(json: RunJson): MlflowRun {
  const pairs = (list?: { key: string; value: string }[]) =>
    Object.fromEntries((list ?? []).map(({ key, value }) => [key, value]));
  const tags = pairs(json.data?.tags);
  return {
    runId: json.info.run_id,
    experimentId: json.info.experiment_id,
    name: json.info.run_name ?? tags['mlflow.runName'] ?? '',
    status: json.info.status,
    artifactUri: json.info.artifact_uri,
    parentRunId: tags['mlflow.parentRunId'],
    params: pairs(json.data?.params),
    tags,
    metrics: Object.fromEntries((json.data?.metrics ?? []).map(({ key, value }) => [key, Number(value)])),
  };
}
