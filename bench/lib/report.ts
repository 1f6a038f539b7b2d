import type { RunnerResult, ThroughputResult } from './result.js';

/**
 * Summaries and tables for train-throughput.ts. This machine is shared and small, so one run per backend is not
 * enough: single runs of the same backend differ by up to ±30 % here. The summary therefore uses medians over
 * repeated, interleaved rounds and leaves out runs during which other processes used the CPU.
 */

/** A run is disturbed when other processes used more than this share of the machine's CPU while it was timed. */
export const DISTURBED_SHARE = 0.05;

export type RoundResult = RunnerResult & { round: number };
type OkRound = ThroughputResult & { round: number };

export interface BackendSummary {
  backend: string;
  runs: number;
  /** Runs that were not disturbed; the statistics below use only these, or every run if none is clean. */
  cleanRuns: number;
  imagesPerSecond: { median: number; min: number; max: number };
  /** CPU time of the runner per trained image: less sensitive to scheduling noise than wall-clock throughput. */
  cpuMsPerImage: number;
}

export function othersShare(result: ThroughputResult, cores: number): number | null {
  const other = result.cpu.otherSeconds;
  return other === null ? null : other / (result.seconds * cores);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

function isClean(result: ThroughputResult, cores: number): boolean {
  return (othersShare(result, cores) ?? 0) <= DISTURBED_SHARE;
}

function okRuns(results: readonly RoundResult[], backend: string): OkRound[] {
  return results.filter((r): r is OkRound => r.backend === backend && r.status === 'ok');
}

export function summarize(results: readonly RoundResult[], backend: string, cores: number): BackendSummary | null {
  const ok = okRuns(results, backend);
  if (ok.length === 0) return null;
  const clean = ok.filter((r) => isClean(r, cores));
  const used = clean.length > 0 ? clean : ok;
  const speeds = used.map((r) => r.imagesPerSecond);
  return {
    backend,
    runs: ok.length,
    cleanRuns: clean.length,
    imagesPerSecond: { median: median(speeds), min: Math.min(...speeds), max: Math.max(...speeds) },
    cpuMsPerImage: median(used.map((r) => (1000 * r.cpu.ownSeconds) / r.timedImages)),
  };
}

/** `over`/`under` throughput per round where both ran undisturbed: the pair shares the machine's state of the moment. */
export function pairedRatios(results: readonly RoundResult[], over: string, under: string, cores: number): number[] {
  const bottoms = new Map(okRuns(results, under).map((r) => [r.round, r]));
  return okRuns(results, over).flatMap((top) => {
    const bottom = bottoms.get(top.round);
    if (!bottom || !isClean(top, cores) || !isClean(bottom, cores)) return [];
    return [top.imagesPerSecond / bottom.imagesPerSecond];
  });
}

function table(header: string[], rows: string[][]): string {
  const full = rows.filter((row) => row.length === header.length);
  const widths = header.map((title, k) => Math.max(title.length, ...full.map((row) => row[k]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells.map((cell, k) => (k === 0 ? cell.padEnd(widths[k] ?? 0) : cell.padStart(widths[k] ?? 0))).join('  ');
  // Skipped and failed runs have only a backend and a reason; they are printed as they are.
  return [line(header), ...rows.map((row) => (row.length === header.length ? line(row) : row.join('  ')))].join('\n');
}

export function formatRuns(results: readonly RoundResult[], cores: number): string {
  const header = ['backend', 'round', 'images', 'timed imgs', 'warm-up s', 'seconds', 'img/s', 'cores used', 'others'];
  const rows = results.map((r) => {
    if (r.status !== 'ok') return [r.backend, String(r.round), `${r.status}: ${r.reason}`];
    const others = othersShare(r, cores);
    return [
      r.backend,
      String(r.round),
      String(r.images),
      String(r.timedImages),
      r.warmupSeconds.toFixed(2),
      r.seconds.toFixed(2),
      r.imagesPerSecond.toFixed(1),
      (r.cpu.ownSeconds / r.seconds).toFixed(2),
      others === null ? 'n/a' : `${(others * 100).toFixed(0)}%`,
    ];
  });
  return table(header, rows);
}

export function formatSummaries(summaries: readonly BackendSummary[]): string {
  const header = ['backend', 'clean/runs', 'median img/s', 'min', 'max', 'cpu ms/img'];
  const rows = summaries.map((s) => [
    s.backend,
    `${s.cleanRuns}/${s.runs}`,
    s.imagesPerSecond.median.toFixed(1),
    s.imagesPerSecond.min.toFixed(1),
    s.imagesPerSecond.max.toFixed(1),
    s.cpuMsPerImage.toFixed(1),
  ]);
  return table(header, rows);
}
