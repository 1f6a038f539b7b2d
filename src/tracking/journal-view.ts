import type { EndRecord, JournalRecord, MetricPoint, RunRecord, TagValue } from './journal.js';

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
  /** Artifact paths (prefix/file). */
  files: string[];
  /** Cache keys of the nodes logged to this run, with how many times each was (re)logged. */
  nodes: Map<string, number>;
}

/** Folds journal records into runs, in the order they were opened. */
export function foldJournal(records: readonly JournalRecord[]): Map<string, RunView> {
  const runs = new Map<string, RunView>();
  for (const record of records) applyRecord(runs, record);
  return runs;
}

/** Folds one more record into the runs (records of a run never opened are ignored). */
export function applyRecord(runs: Map<string, RunView>, record: JournalRecord): void {
  if (record.t === 'run') {
    if (!runs.has(record.id)) runs.set(record.id, openView(record));
    return;
  }
  const view = runs.get(record.id);
  if (!view) return;
  if (record.t === 'end') {
    view.status = record.status;
    view.endTime = record.time;
  } else if (record.t === 'files') {
    view.files.push(...record.files.map((file) => `${record.prefix}/${file}`));
  } else {
    if (record.node) view.nodes.set(record.node, (view.nodes.get(record.node) ?? 0) + 1);
    Object.assign(view.params, record.params);
    Object.assign(view.tags, record.tags);
    for (const point of record.metrics ?? []) (view.metrics[point.key] ??= []).push(point);
  }
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
  };
}

/** A tag value as text: a reference to another run shows that run's journal id. */
export function tagText(value: TagValue): string {
  return typeof value === 'string' ? value : `→ ${value.ref}`;
}
