import { findOrCreate, MlflowError, type MlflowTransport } from './mlflow-request.js';

const API = '/api/2.0/mlflow';

/** A version of a registered model. */
export interface ModelVersion {
  name: string;
  version: string;
  source: string;
  runId: string | undefined;
  tags: Record<string, string>;
}

interface VersionJson {
  name: string;
  version: string;
  source: string;
  run_id?: string;
  tags?: { key: string; value: string }[];
}

/** What registering a logged model needs. */
export interface RegisterOptions {
  name: string;
  modelId: string;
  runId: string;
  tags: Record<string, string>;
}

/** The Model Registry: registered models and their versions. */
export class ModelRegistry {
  constructor(private readonly http: MlflowTransport) {}

  /**
   * Registers a logged model as a version of `name` (creating the registered model if needed). A model already
   * registered under that name (found by the `tagKey` tag its version carries) is not registered again.
   */
  async register(
    options: RegisterOptions,
    tagKey: string,
    tagValue: string,
  ): Promise<{ value: ModelVersion; created: boolean }> {
    await this.ensureRegisteredModel(options.name);
    return findOrCreate(
      this.http,
      async () => (await this.searchVersions(options.name, tagKey, tagValue))[0],
      () => this.createVersion({ ...options, tags: { ...options.tags, [tagKey]: tagValue } }),
    );
  }

  /** Creates the registered model; one that exists already is fine. */
  async ensureRegisteredModel(name: string): Promise<void> {
    try {
      await this.http.request('POST', `${API}/registered-models/create`, { name });
    } catch (error) {
      if (!(error instanceof MlflowError) || error.errorCode !== 'RESOURCE_ALREADY_EXISTS') throw error;
    }
  }

  /** Creates a version once (no blind retries: see {@link register}). */
  async createVersion(options: RegisterOptions): Promise<ModelVersion> {
    const answer = (await this.http.request(
      'POST',
      `${API}/model-versions/create`,
      {
        name: options.name,
        source: `models:/${options.modelId}`,
        model_id: options.modelId,
        run_id: options.runId,
        tags: Object.entries(options.tags).map(([key, value]) => ({ key, value })),
      },
      { retries: 0 },
    )) as { model_version: VersionJson };
    return toVersion(answer.model_version);
  }

  /** Versions of `name`, optionally only those with a tag of this value. */
  async searchVersions(name: string, tagKey?: string, tagValue?: string): Promise<ModelVersion[]> {
    const quote = (text: string) => `'${text.replace(/'/g, "\\'")}'`;
    const tag = tagKey && tagValue !== undefined ? ` and tags.\`${tagKey}\` = ${quote(tagValue)}` : '';
    const query = new URLSearchParams({ filter: `name = ${quote(name)}${tag}`, max_results: '200' });
    const answer = (await this.http.request('GET', `${API}/model-versions/search?${query.toString()}`)) as {
      model_versions?: VersionJson[];
    };
    return (answer.model_versions ?? []).map(toVersion);
  }

  /** The version an alias points at. */
  async versionByAlias(name: string, alias: string): Promise<ModelVersion> {
    const query = new URLSearchParams({ name, alias });
    const answer = (await this.http.request('GET', `${API}/registered-models/alias?${query.toString()}`)) as {
      model_version: VersionJson;
    };
    return toVersion(answer.model_version);
  }

  /** Where a version's files are (`mlflow-artifacts:/…` on a server that proxies artifacts). */
  async downloadUri(name: string, version: string): Promise<string> {
    const query = new URLSearchParams({ name, version });
    const answer = (await this.http.request('GET', `${API}/model-versions/get-download-uri?${query.toString()}`)) as {
      artifact_uri: string;
    };
    return answer.artifact_uri;
  }
}

function toVersion(json: VersionJson): ModelVersion {
  return {
    name: json.name,
    version: String(json.version),
    source: json.source,
    runId: json.run_id || undefined,
    tags: Object.fromEntries((json.tags ?? []).map(({ key, value }) => [key, value])),
  };
}
