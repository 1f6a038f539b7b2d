import type { MetricPoint } from './journal-records.js';
import { chunkBatch, type Batch } from './log-batch.js';
import { MlflowArtifacts } from './mlflow-artifacts.js';
import { LoggedModels } from './mlflow-models.js';
import { ModelRegistry } from './mlflow-registry.js';
import { findOrCreate, MlflowError, MlflowTransport, type MlflowRequestOptions } from './mlflow-request.js';

export type { Batch } from './log-batch.js';

const API = '/api/2.0/mlflow';

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
  /** Ids of the logged models linked to the run as its outputs. */
  modelOutputs: string[];
}

/** What `runs/create` needs. */
export interface CreateRunOptions {
  experimentId: string;
  name: string;
  startTime: number;
  /** The run's `user_id` (MLflow's own clients set it to the `mlflow.user` tag). */
  userId?: string;
  tags: Record<string, string>;
}

/** One `runs/log-inputs` data set, with MLflow's field names (schema, profile and source are JSON text). */
export interface DatasetInputJson {
  dataset: { name: string; digest: string; source_type: string; source: string; schema: string; profile: string };
  tags: { key: string; value: string }[];
}

interface RunJson {
  info: { run_id: string; experiment_id: string; run_name?: string; status: string; artifact_uri: string };
  data?: {
    params?: { key: string; value: string }[];
    tags?: { key: string; value: string }[];
    metrics?: { key: string; value: number }[];
  };
  outputs?: { model_outputs?: { model_id: string }[] };
}

/**
 * A small typed client for MLflow's REST API (the npm `mlflow` package is abandoned): experiments and runs here,
 * files in `artifacts`, MLflow 3 logged models in `models`, the Model Registry in `registry`. Every call names its
 * run by id, so any number of workers can log at once; there is no "active run".
 */
export class MlflowClient {
  readonly uri: string;
  readonly artifacts: MlflowArtifacts;
  readonly models: LoggedModels;
  readonly registry: ModelRegistry;
  private readonly http: MlflowTransport;

  constructor(options: MlflowRequestOptions) {
    this.http = new MlflowTransport(options);
    this.uri = this.http.uri;
    this.artifacts = new MlflowArtifacts(this.http);
    this.models = new LoggedModels(this.http);
    this.registry = new ModelRegistry(this.http);
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
          'TRACKING_REJECTED',
          `MLflow experiment '${name}' at ${this.uri} is deleted: restore it (mlflow experiments restore) or pick another --experiment`,
        );
      }
      return answer.experiment.experiment_id;
    } catch (error) {
      if (error instanceof MlflowError && error.errorCode === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw error;
    }
  }

  /**
   * The run tagged `tagKey = tagValue` in the experiment, creating it (RUNNING) if there is none. `runs/create` is
   * not idempotent, so a create whose answer is lost is looked up again before it is repeated.
   */
  async ensureRun(
    options: CreateRunOptions,
    tagKey: string,
    tagValue: string,
  ): Promise<{ value: MlflowRun; created: boolean }> {
    const filter = `tags.\`${tagKey}\` = '${tagValue.replace(/'/g, "\\'")}'`;
    return findOrCreate(
      this.http,
      async () => (await this.searchRuns([options.experimentId], filter))[0],
      () => this.createRun({ ...options, tags: { ...options.tags, [tagKey]: tagValue } }),
    );
  }

  /** Creates a run once, with its tags (no blind retries: see {@link ensureRun}). */
  async createRun(options: CreateRunOptions): Promise<MlflowRun> {
    const answer = (await this.http.request(
      'POST',
      `${API}/runs/create`,
      {
        experiment_id: options.experimentId,
        run_name: options.name,
        start_time: options.startTime,
        ...(options.userId ? { user_id: options.userId } : {}),
        tags: Object.entries(options.tags).map(([key, value]) => ({ key, value })),
      },
      { retries: 0 },
    )) as { run: RunJson };
    return toRun(answer.run);
  }

  /** Sets a run's status, and its end time when given. */
  async updateRun(runId: string, status: string, endTime?: number): Promise<void> {
    await this.post('runs/update', { run_id: runId, status, ...(endTime === undefined ? {} : { end_time: endTime }) });
  }

  /** Logs params, metrics and tags, split into as many requests as MLflow's limits need. */
  async logBatch(runId: string, batch: Batch): Promise<void> {
    for (const chunk of chunkBatch(batch)) await this.post('runs/log-batch', { run_id: runId, ...chunk });
  }

  /** Records the data sets a run read (MLflow keeps each run–data set–context link once). */
  async logInputs(runId: string, datasets: DatasetInputJson[]): Promise<void> {
    await this.post('runs/log-inputs', { run_id: runId, datasets });
  }

  /** Links logged models to the run that produced them, at a step; a link the run has already is kept as it is. */
  async logOutputs(runId: string, models: { modelId: string; step: number }[]): Promise<void> {
    // MLflow refuses a second identical link (a SQL uniqueness error), so a re-sent record asks first.
    const linked = new Set((await this.getRun(runId)).modelOutputs);
    const entries = models
      .filter((model) => !linked.has(model.modelId))
      .map((model) => ({ model_id: model.modelId, step: model.step }));
    if (entries.length > 0) await this.post('runs/outputs', { run_id: runId, models: entries });
  }

  /** Sets one tag (tags may be overwritten; params may not). */
  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.post('runs/set-tag', { run_id: runId, key, value });
  }

  /** Removes a tag; one that is not there is fine. */
  async deleteTag(runId: string, key: string): Promise<void> {
    try {
      await this.post('runs/delete-tag', { run_id: runId, key });
    } catch (error) {
      if (!(error instanceof MlflowError) || error.errorCode !== 'RESOURCE_DOES_NOT_EXIST') throw error;
    }
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

  private get(route: string): Promise<unknown> {
    return this.http.request('GET', `${API}/${route}`);
  }

  private post(route: string, body: unknown): Promise<unknown> {
    return this.http.request('POST', `${API}/${route}`, body);
  }
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
    modelOutputs: (json.outputs?.model_outputs ?? []).map((output) => output.model_id),
  };
}
