import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import path from 'node:path';
import { PipelineError } from '../errors.js';

/** A tag value, or a reference to another journaled run whose MLflow id is known only once it is synced. */
export type TagValue = string | { ref: string };

/** A metric value as JSON can carry it: non-finite numbers spelled the way MLflow's REST API accepts them. */
export type MetricValue = number | 'NaN' | 'Infinity' | '-Infinity';

/** One point of a metric series. `timestamp` is fixed when journaled, so a re-send is an identical point. */
export interface MetricPoint {
  key: string;
  value: MetricValue;
  step: number;
  timestamp: number;
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

/** Params, metrics and tags of one run; `node` names the cache key whose outputs they describe, if any. */
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

/** Closes (or re-closes) a run with an MLflow status. */
export interface EndRecord {
  t: 'end';
  id: string;
  status: 'FINISHED' | 'FAILED' | 'KILLED';
  time: number;
}

/** Everything the tracker journals; each is one JSON line. */
export type JournalRecord = RunRecord | LogRecord | FilesRecord | EndRecord;

/** What reading a journal found: the complete records, and how many bytes of a torn last line were dropped. */
export interface JournalContents {
  records: JournalRecord[];
  droppedBytes: number;
}

/** Where a workspace keeps its tracking journal. */
export function journalPath(workspaceRoot: string): string {
  return path.join(workspaceRoot, 'tracking', 'journal.jsonl');
}

/**
 * Reads every complete record. A crash while appending can leave a last line without its newline; that line is
 * dropped (and reported in `droppedBytes`). A broken line before the end is not a crash artifact, so it is an error.
 */
export function readJournal(file: string): JournalContents {
  if (!existsSync(file)) return { records: [], droppedBytes: 0 };
  const text = readFileSync(file, 'utf8');
  const end = text.lastIndexOf('\n') + 1;
  const lines = text.slice(0, end).split('\n');
  lines.pop();
  const records = lines.map((line, index) => parseLine(file, line, index + 1));
  return { records, droppedBytes: Buffer.byteLength(text.slice(end)) };
}

function parseLine(file: string, line: string, lineNumber: number): JournalRecord {
  try {
    const record = JSON.parse(line) as JournalRecord;
    if (typeof record.t === 'string' && typeof record.id === 'string') return record;
  } catch {
    // reported below
  }
  throw new PipelineError(
    'STORE_INVALID',
    `${file}:${lineNumber}: not a tracking record; the journal was edited or damaged (move it aside to start afresh)`,
  );
}

/**
 * Appends records as JSON lines, each batch in one write so concurrent writers never interleave inside a line.
 * Before the first append it cuts a torn last line left by a crash, so new records never join it.
 */
export class JournalWriter {
  private repaired = false;

  constructor(readonly file: string) {}

  /** Appends and flushes to disk: a record is journaled before anything is sent. */
  append(records: readonly JournalRecord[]): void {
    if (records.length === 0) return;
    mkdirSync(path.dirname(this.file), { recursive: true });
    if (!this.repaired) this.repair();
    const fd = openSync(this.file, 'a');
    try {
      writeSync(fd, records.map((record) => `${JSON.stringify(record)}\n`).join(''));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  private repair(): void {
    this.repaired = true;
    if (!existsSync(this.file)) return;
    const text = readFileSync(this.file);
    const end = text.lastIndexOf(0x0a) + 1;
    if (end < text.length) truncateSync(this.file, end);
  }
}

/** A number as the journal and MLflow carry it (JSON has no NaN or Infinity). */
export function toMetricValue(value: number): MetricValue {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  return value;
}
