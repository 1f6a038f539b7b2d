import { findOrCreate, type MlflowTransport } from './mlflow-request.js';

const API = '/api/2.0/mlflow';

/** An MLflow 3 LoggedModel as this tool reads it. */
export interface LoggedModel {
  modelId: string;
  experimentId: string;
  name: string;
  status: string;
  /** `mlflow-artifacts:/<experiment>/models/<id>/artifacts` on a server that proxies artifacts. */
  artifactUri: string;
  sourceRunId: string | undefined;
  tags: Record<string, string>;
}

/** What `logged-models` (create) needs. */
export interface CreateLoggedModelOptions {
  experimentId: string;
  name: string;
  modelType: string;
  sourceRunId: string;
  params: Record<string, string>;
  tags: Record<string, string>;
}

interface LoggedModelJson {
  info: {
    model_id: string;
    experiment_id: string;
    name: string;
    status?: string;
    artifact_uri: string;
    source_run_id?: string;
    tags?: { key: string; value: string }[];
  };
}

/** MLflow 3's logged-model endpoints: a model with its own artifacts, params, tags and linked metrics. */
export class LoggedModels {
  constructor(private readonly http: MlflowTransport) {}

  /**
   * The model tagged `tagKey = tagValue` in the experiment, creating it (PENDING) if there is none. A create whose
   * answer is lost is looked up again before it is repeated, so a model is never created twice.
   */
  async ensure(
    options: CreateLoggedModelOptions,
    tagKey: string,
    tagValue: string,
  ): Promise<{ value: LoggedModel; created: boolean }> {
    return findOrCreate(
      this.http,
      async () => (await this.searchByTag([options.experimentId], tagKey, tagValue))[0],
      () => this.create({ ...options, tags: { ...options.tags, [tagKey]: tagValue } }),
    );
  }

  /** Creates a model once (no blind retries: see {@link ensure}). */
  async create(options: CreateLoggedModelOptions): Promise<LoggedModel> {
    const pairs = (record: Record<string, string>) => Object.entries(record).map(([key, value]) => ({ key, value }));
    const answer = (await this.http.request(
      'POST',
      `${API}/logged-models`,
      {
        experiment_id: options.experimentId,
        name: options.name,
        model_type: options.modelType,
        source_run_id: options.sourceRunId,
        params: pairs(options.params),
        tags: pairs(options.tags),
      },
      { retries: 0 },
    )) as { model: LoggedModelJson };
    return toModel(answer.model);
  }

  /** Models in these experiments with a tag of this value. */
  async searchByTag(experimentIds: string[], key: string, value: string): Promise<LoggedModel[]> {
    const answer = (await this.http.request('POST', `${API}/logged-models/search`, {
      experiment_ids: experimentIds,
      filter: `tags.\`${key}\` = '${value.replace(/'/g, "\\'")}'`,
      max_results: 50,
    })) as { models?: LoggedModelJson[] };
    return (answer.models ?? []).map(toModel);
  }

  /** One model by id. */
  async get(modelId: string): Promise<LoggedModel> {
    const answer = (await this.http.request('GET', `${API}/logged-models/${encodeURIComponent(modelId)}`)) as {
      model: LoggedModelJson;
    };
    return toModel(answer.model);
  }

  /** Marks a model READY (its files are uploaded) or FAILED. */
  async finalize(modelId: string, status: 'LOGGED_MODEL_READY' | 'LOGGED_MODEL_UPLOAD_FAILED'): Promise<void> {
    await this.http.request('PATCH', `${API}/logged-models/${encodeURIComponent(modelId)}`, {
      model_id: modelId,
      status,
    });
  }
}

function toModel(json: LoggedModelJson): LoggedModel {
  return {
    modelId: json.info.model_id,
    experimentId: json.info.experiment_id,
    name: json.info.name,
    status: json.info.status ?? '',
    artifactUri: json.info.artifact_uri,
    sourceRunId: json.info.source_run_id,
    tags: Object.fromEntries((json.info.tags ?? []).map(({ key, value }) => [key, value])),
  };
}
