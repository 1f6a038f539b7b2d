import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import path from 'node:path';
import { PipelineError } from '../errors.js';
import { foldJournal, type JournalContents, type JournalRecord, type RunView } from './journal-records.js';

/**
 * A workspace's tracking journal: an append-only file of JSON records, the source of truth every MLflow server is
 * fed from. Appends are fsync'd batches, so concurrent writers never interleave inside a line; a crash while
 * appending can leave a torn last line, which reading drops and the first append cuts.
 */
export class Journal {
  private repaired = false;

  constructor(readonly file: string) {}

  /**
   * Every complete record. A torn last line is dropped (and reported in `droppedBytes`); a broken line before the
   * end is not a crash artifact, so it is an error.
   */
  read(): JournalContents {
    if (!existsSync(this.file)) return { records: [], droppedBytes: 0 };
    const text = readFileSync(this.file, 'utf8');
    const end = text.lastIndexOf('\n') + 1;
    const lines = text.slice(0, end).split('\n');
    lines.pop();
    const records = lines.map((line, index) => parseLine(this.file, line, index + 1));
    return { records, droppedBytes: Buffer.byteLength(text.slice(end)) };
  }

  /** The journaled runs, folded from every record. */
  fold(): Map<string, RunView> {
    return foldJournal(this.read().records);
  }

  /**
   * The workspace's identity, part of every run id, so a fresh workspace never continues another's runs. A new
   * journal gets a random one as its first record; a journal written before identities existed has none
   * (undefined), and its runs keep the ids they had.
   */
  identity(): string | undefined {
    const find = (records: JournalRecord[]) => records.find((record) => record.t === 'workspace')?.id;
    const { records } = this.read();
    if (records.length > 0) return find(records);
    this.append([{ t: 'workspace', id: randomUUID(), time: Date.now() }]);
    // Two processes opening an empty journal at once both append one; the first in the file is the identity.
    return find(this.read().records);
  }

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

  // Cut a torn last line left by a crash, so new records never join it.
  private repair(): void {
    this.repaired = true;
    if (!existsSync(this.file)) return;
    const text = readFileSync(this.file);
    const end = text.lastIndexOf(0x0a) + 1;
    if (end < text.length) truncateSync(this.file, end);
  }
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
