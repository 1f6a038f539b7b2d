import * as fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { PipelineError } from '../errors.js';
import type {
  DatasetInput,
  FilesRecord,
  JournalRecord,
  LogRecord,
  MetricPoint,
  ModelRecord,
  RegisterRecord,
  RunRecord,
  SyncReport,
  TagValue,
} from './journal-records.js';
import type { BatchMetric } from './log-batch.js';
import type { Batch, DatasetInputJson, MlflowClient } from './mlflow-client.js';
import { MlflowError } from './mlflow-request.js';

/** What one MLflow server already holds of a workspace's journal (the sink's state file). */
export interface SinkState {
  uri: string;
  /** Journal records handled (sent, or set aside in `rejected`), counted from the start. */
  cursor: number;
  /** Journal run id → the MLflow run it became. */
  runs: Record<string, { runId: string; experimentId: string; artifactUri: string }>;
  /** Journal model key → the LoggedModel it became. */
  models?: Record<string, { modelId: string; artifactUri: string }>;
  /** `<registered model name>\n<journal model key>` → the version it became. */
  versions?: Record<string, string>;
  /** Experiment name → id. */
  experiments: Record<string, string>;
  /** Records the server refused (4xx); the next sync tries them again. */
  rejected: { index: number; error: string }[];
}

/** The tags by which journal runs, models and model versions are found again on the server. */
export const LOCAL_RUN_TAG = 'pipeline.localRunId';
export const LOCAL_MODEL_TAG = 'pipeline.localModelId';

/** One sync's sending: applies journal records to the server and keeps the state and report up to date. */
export class Replay {
  constructor(
    private readonly client: MlflowClient,
    private readonly state: SinkState,
    private readonly report: SyncReport,
  ) {}

  /**
   * Sends a group; a refused group of several records is retried one by one to find the refused ones. A server
   * that refuses our credentials refuses everything: that stops the sync instead of setting records aside.
   */
  async send(group: [number, JournalRecord][]): Promise<void> {
    try {
      await this.apply(group.map(([, record]) => record));
      for (const [index] of group) this.settle(index, undefined);
    } catch (error) {
      if (!(error instanceof PipelineError) || error.code !== 'TRACKING_REJECTED') throw error;
      if (error instanceof MlflowError && error.auth) throw error;
      if (group.length === 1) this.settle(group[0]?.[0] ?? -1, error.message);
      else for (const entry of group) await this.send([entry]);
    }
  }

  private settle(index: number, error: string | undefined): void {
    const state = this.state;
    const wasRejected = state.rejected.findIndex((entry) => entry.index === index);
    if (wasRejected >= 0) state.rejected.splice(wasRejected, 1);
    if (error !== undefined) state.rejected.push({ index, error });
    else this.report.sent++;
    if (index >= state.cursor) state.cursor = index + 1;
  }

  private async apply(records: JournalRecord[]): Promise<void> {
    const first = records[0];
    if (!first || first.t === 'workspace') return;
    if (first.t === 'run') return this.ensureRun(first);
    const run = this.runOf(first.id);
    switch (first.t) {
      case 'end':
        return this.client.updateRun(run.runId, first.status, first.time);
      case 'reopen':
        await this.client.updateRun(run.runId, 'RUNNING');
        for (const key of first.clearTags) await this.client.deleteTag(run.runId, key);
        return;
      case 'files':
        return this.upload(run.artifactUri, first);
      case 'doc':
        return this.client.artifacts.upload(run.artifactUri, first.path, jsonBytes(first.doc));
      case 'inputs':
        return this.client.logInputs(run.runId, first.datasets.map(inputJson));
      case 'model':
        return this.logModel(first);
      case 'register':
        return this.register(first);
      case 'log':
        return this.client.logBatch(run.runId, this.batchOf(records as LogRecord[]));
    }
  }

  private batchOf(records: LogRecord[]): Batch {
    const batch: Batch = { metrics: [], params: [], tags: [] };
    for (const record of records) {
      for (const [key, value] of Object.entries(record.params ?? {})) batch.params.push({ key, value });
      for (const [key, value] of Object.entries(record.tags ?? {})) {
        batch.tags.push({ key, value: this.resolve(value) });
      }
      batch.metrics.push(...(record.metrics ?? []).map((point) => this.metric(point)));
    }
    return batch;
  }

  // A model the server never took (its creation was refused) leaves its metrics unlinked rather than unsent.
  private metric({ model, dataset, ...point }: MetricPoint): BatchMetric {
    const modelId = model ? this.state.models?.[model]?.modelId : undefined;
    return {
      ...point,
      ...(modelId ? { model_id: modelId } : {}),
      ...(dataset ? { dataset_name: dataset.name, dataset_digest: dataset.digest } : {}),
    };
  }

  private async ensureRun(record: RunRecord): Promise<void> {
    if (this.state.runs[record.id]) return;
    const experimentId = (this.state.experiments[record.experiment] ??= await this.client.ensureExperiment(
      record.experiment,
    ));
    const tags = Object.fromEntries(Object.entries(record.tags).map(([key, value]) => [key, this.resolve(value)]));
    if (record.parent) tags['mlflow.parentRunId'] = this.runOf(record.parent).runId;
    const options = { experimentId, name: record.name, startTime: record.time, tags };
    const userId = tags['mlflow.user'];
    const { value: run, created } = await this.client.ensureRun(
      userId ? { ...options, userId } : options,
      LOCAL_RUN_TAG,
      record.id,
    );
    if (created) this.report.runsCreated++;
    this.state.runs[record.id] = { runId: run.runId, experimentId, artifactUri: run.artifactUri };
  }

  private async upload(artifactUri: string, record: FilesRecord): Promise<void> {
    this.client.artifacts.proxyPath(artifactUri);
    for (const file of record.files) {
      await this.client.artifacts.upload(artifactUri, `${record.prefix}/${file}`, readSource(record.root, file));
    }
  }

  /**
   * A LoggedModel: found by its key (or created PENDING), its files, generated files and `MLmodel` uploaded, marked
   * READY, and linked to the run as an output. A model logged before (another attempt of the trial) is only linked.
   */
  private async logModel(record: ModelRecord): Promise<void> {
    const run = this.runOf(record.id);
    const models = (this.state.models ??= {});
    let model = models[record.key];
    if (!model) {
      const options = {
        experimentId: run.experimentId,
        name: record.name,
        modelType: record.type,
        sourceRunId: run.runId,
        params: record.params,
        tags: record.tags,
      };
      const { value } = await this.client.models.ensure(options, LOCAL_MODEL_TAG, record.key);
      const upload = (file: string, data: Buffer) => this.client.artifacts.upload(value.artifactUri, file, data);
      for (const file of record.files) await upload(file, readSource(record.root, file));
      for (const [file, text] of Object.entries(record.inline)) await upload(file, Buffer.from(text));
      const mlmodel = { artifact_path: value.artifactUri, ...record.mlmodel, model_id: value.modelId };
      await upload('MLmodel', Buffer.from(stringify({ ...mlmodel, model_uuid: value.modelId, run_id: run.runId })));
      await this.client.models.finalize(value.modelId, 'LOGGED_MODEL_READY');
      model = models[record.key] = { modelId: value.modelId, artifactUri: value.artifactUri };
    }
    await this.client.logOutputs(run.runId, [{ modelId: model.modelId, step: record.step }]);
  }

  private async register(record: RegisterRecord): Promise<void> {
    const versions = (this.state.versions ??= {});
    const id = `${record.name}\n${record.model}`;
    if (versions[id]) return;
    const model = this.state.models?.[record.model];
    if (!model) {
      throw new PipelineError('TRACKING_REJECTED', `model ${record.model} is not in MLflow (its logging was refused)`);
    }
    const options = { name: record.name, modelId: model.modelId, runId: this.runOf(record.id).runId };
    const { value } = await this.client.registry.register(
      { ...options, tags: record.tags },
      LOCAL_MODEL_TAG,
      record.model,
    );
    versions[id] = value.version;
  }

  private runOf(id: string): SinkState['runs'][string] {
    const run = this.state.runs[id];
    if (!run)
      throw new PipelineError('TRACKING_REJECTED', `journal run ${id} is not in MLflow (its creation was refused)`);
    return run;
  }

  private resolve(value: TagValue): string {
    return typeof value === 'string' ? value : this.runOf(value.ref).runId;
  }
}

function readSource(root: string, file: string): Buffer {
  const source = path.join(root, file);
  if (!fs.existsSync(source)) {
    throw new PipelineError(
      'TRACKING_REJECTED',
      `artifact ${source} is gone from the workspace; it cannot be uploaded`,
    );
  }
  return fs.readFileSync(source);
}

function jsonBytes(doc: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(doc, null, 2)}\n`);
}

function inputJson(input: DatasetInput): DatasetInputJson {
  const { context, sourceType, ...dataset } = input;
  return {
    dataset: { ...dataset, source_type: sourceType },
    tags: [{ key: 'mlflow.data.context', value: context }],
  };
}
