import type { Plan, TrialRow } from '../types.js';

/** Left-aligned text columns separated by two spaces. */
export function formatColumns(rows: string[][]): string {
  const widths = rows.reduce<number[]>((acc, row) => row.map((cell, i) => Math.max(acc[i] ?? 0, cell.length)), []);
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The results table: one row per trial with its grid values, state and objective, the best marked with `*`. */
export function formatResults(plan: Plan, rows: readonly TrialRow[]): string {
  const keys = Object.keys(plan.trials[0]?.params ?? {});
  const header = ['', 'trial', ...keys.map((key) => key.split('.').pop() ?? key), 'state', plan.objective.metric];
  const body = rows.map((row) => [
    row.best ? '*' : '',
    row.id,
    ...keys.map((key) => formatValue(row.params[key])),
    row.state,
    row.objective === undefined ? '-' : row.objective.toFixed(4),
  ]);
  const failures = rows.filter((row) => row.error).map((row) => `${row.id} failed: ${row.error ?? ''}`);
  const stops = rows.filter((row) => row.stopped).map((row) => `${row.id} stopped: ${row.stopped ?? ''}`);
  return [formatColumns([header, ...body]), ...failures, ...stops].join('\n');
}

/** A parameter value as a short string. */
export function formatValue(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}
