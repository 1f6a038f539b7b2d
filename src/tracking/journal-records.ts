/** A tag value, or a reference to another journaled run whose MLflow id is known only once it is synced. */
export type TagValue = string | { ref: string };

/** A metric value as JSON can carry it: non-finite numbers spelled the way MLflow's REST API accepts them. */
export type MetricValue = number | 'NaN' | 'Infinity' | '-Infinity';

/**
 * One point of a metric series. `timestamp` is fixed when journaled, so a re-send is an identical point. `model`
 * (a journaled model's key) and `dataset` link the point to the model it measures and the data it was measured on.
 */
export interface MetricPoint {
  key: string;
  value: MetricValue;
  step: number;
  timestamp: number;
  model?: string;
  dataset?: { name: string; digest: string };
}

/** The workspace's identity: a random id, the first record of a journal, part of every run id journaled after it. */
export interface WorkspaceRecord {
  t: 'workspace';
  id: string;
  time: number;
}

/** Opens a run: a sweep's parent run, or a trial's run (with `parent`). `id` is the journal's own run id. */
export interface RunRecord {
  t: 'run';
  id: string;
  experiment: string;
  name: string;
  parent?: string;
  tags: Record<string, TagValue>;
  time: number;
}

/** Params, metrics and tags of one run; `node` names the node whose result they log (once it finished), if any. */
export interface LogRecord {
  t: 'log';
  id: string;
  node?: string;
  params?: Record<string, string>;
  metrics?: MetricPoint[];
  tags?: Record<string, TagValue>;
}

/** Files of a node output folder to store as the run's artifacts under `prefix/`. */
export interface FilesRecord {
  t: 'files';
  id: string;
  node: string;
  root: string;
  files: string[];
  prefix: string;
}

/** A JSON document stored as one artifact of the run (written again whole when it changes). */
export interface DocRecord {
  t: 'doc';
  id: string;
  path: string;
  doc: unknown;
}

/** Closes (or re-closes) a run with an MLflow status. */
export interface EndRecord {
  t: 'end';
  id: string;
  status: 'FINISHED' | 'FAILED' | 'KILLED';
  time: number;
}

/** Reopens an ended run that goes on (a resumed sweep, a retried stage); `clearTags` are removed from it. */
export interface ReopenRecord {
  t: 'reopen';
  id: string;
  time: number;
  clearTags: string[];
}

/** A data set a run read, as MLflow's `runs/log-inputs` takes it (`source`, `schema`, `profile`: JSON text). */
export interface DatasetInput {
  name: string;
  digest: string;
  context: string;
  sourceType: string;
  source: string;
  schema: string;
  profile: string;
}

/** The data sets a run read. */
export interface InputsRecord {
  t: 'inputs';
  id: string;
  datasets: DatasetInput[];
}

/**
 * A trained model to log as an MLflow LoggedModel of run `id`: the files of its folder (`root`), generated text
 * files (`inline`), and the `MLmodel` fields known when journaled (flavours, signature); the sink adds the ids.
 */
export interface ModelRecord {
  t: 'model';
  id: string;
  /** The model's journal key, which metric points and registrations refer to. */
  key: string;
  node: string;
  name: string;
  type: string;
  /** The step the model was saved at (the last epoch's). */
  step: number;
  root: string;
  files: string[];
  inline: Record<string, string>;
  mlmodel: Record<string, unknown>;
  params: Record<string, string>;
  tags: Record<string, string>;
}

/** Registers the journaled model `model` (of run `id`) as a version of the registered model `name`. */
export interface RegisterRecord {
  t: 'register';
  id: string;
  model: string;
  name: string;
  tags: Record<string, string>;
}

/** Everything the tracker journals; each is one JSON line. */
export type JournalRecord =
  | WorkspaceRecord
  | RunRecord
  | LogRecord
  | FilesRecord
  | DocRecord
  | EndRecord
  | ReopenRecord
  | InputsRecord
  | ModelRecord
  | RegisterRecord;

/** What reading a journal found: the complete records, and how many bytes of a torn last line were dropped. */
export interface JournalContents {
  records: JournalRecord[];
  droppedBytes: number;
}

/** What one replay of the journal to a tracking server did. */
export interface SyncReport {
  /** Records sent this time. */
  sent: number;
  /** Runs created on the server this time. */
  runsCreated: number;
  /** Records the server refused, kept for the next sync (with the server's message). */
  rejected: { index: number; error: string }[];
  /** Bytes of a torn last journal line that were dropped. */
  droppedBytes: number;
}

/** One journaled run folded from its records: what `pipeline runs` and `pipeline show` print. */
export interface RunView {
  id: string;
  name: string;
  experiment: string;
  parent: string | undefined;
  startTime: number;
  status: EndRecord['status'] | 'RUNNING';
  endTime: number | undefined;
  tags: Record<string, TagValue>;
  params: Record<string, string>;
  /** Points per metric key, in journal order. */
  metrics: Record<string, MetricPoint[]>;
  /** Artifact paths (prefix/file, and documents). */
  files: string[];
  /** Cache keys of the nodes whose results were logged to this run, with how many times each was. */
  nodes: Map<string, number>;
  /** Data sets the run read. */
  inputs: DatasetInput[];
  /** Models the run logged, by key. */
  models: Map<string, ModelRecord>;
  /** Registered model names its models were registered under. */
  registered: { name: string; model: string }[];
}

/** Folds journal records into runs, in the order they were opened. */
export function foldJournal(records: readonly JournalRecord[]): Map<string, RunView> {
  const runs = new Map<string, RunView>();
  for (const record of records) applyRecord(runs, record);
  return runs;
}

/** Folds one more record into the runs (records of a run never opened are ignored). */
export function applyRecord(runs: Map<string, RunView>, record: JournalRecord): void {
  if (record.t === 'workspace') return;
  if (record.t === 'run') {
    if (!runs.has(record.id)) runs.set(record.id, openView(record));
    return;
  }
  const view = runs.get(record.id);
  if (view) applyToView(view, record);
}

function applyToView(view: RunView, record: Exclude<JournalRecord, WorkspaceRecord | RunRecord>): void {
  switch (record.t) {
    case 'end':
      view.status = record.status;
      view.endTime = record.time;
      return;
    case 'reopen':
      view.status = 'RUNNING';
      view.endTime = undefined;
      for (const key of record.clearTags) delete view.tags[key];
      return;
    case 'files':
      addFiles(
        view,
        record.files.map((file) => `${record.prefix}/${file}`),
      );
      return;
    case 'doc':
      addFiles(view, [record.path]);
      return;
    case 'inputs':
      for (const input of record.datasets) {
        const same = (i: DatasetInput) =>
          i.name === input.name && i.digest === input.digest && i.context === input.context;
        if (!view.inputs.some(same)) view.inputs.push(input);
      }
      return;
    case 'model':
      view.models.set(record.key, record);
      return;
    case 'register':
      view.registered.push({ name: record.name, model: record.model });
      return;
    case 'log':
      if (record.node) view.nodes.set(record.node, (view.nodes.get(record.node) ?? 0) + 1);
      Object.assign(view.params, record.params);
      Object.assign(view.tags, record.tags);
      for (const point of record.metrics ?? []) (view.metrics[point.key] ??= []).push(point);
  }
}

function addFiles(view: RunView, files: string[]): void {
  for (const file of files) if (!view.files.includes(file)) view.files.push(file);
}

function openView(record: RunRecord): RunView {
  return {
    id: record.id,
    name: record.name,
    experiment: record.experiment,
    parent: record.parent,
    startTime: record.time,
    status: 'RUNNING',
    endTime: undefined,
    tags: { ...record.tags },
    params: {},
    metrics: {},
    files: [],
    nodes: new Map(),
    inputs: [],
    models: new Map(),
    registered: [],
  };
}

/** A tag value as text: a reference to another run shows that run's journal id. */
export function tagText(value: TagValue): string {
  return typeof value === 'string' ? value : `→ ${value.ref}`;
}

/** A number as the journal and MLflow carry it (JSON has no NaN or Infinity). */
export function toMetricValue(value: number): MetricValue {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  return value;
}
