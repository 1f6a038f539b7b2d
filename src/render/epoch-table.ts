/** One row of a per-epoch table: the epoch and its metrics (NaN or missing: not measured). */
export type EpochRow = { epoch: number } & Record<string, number>;

const format = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? '' : value.toFixed(4));

function columnsOf(rows: readonly EpochRow[]): string[] {
  const keys = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row)) if (key !== 'epoch') keys.add(key);
  return [...keys];
}

/** The per-epoch metrics as a markdown table, like the CNN report's tables 2–6. */
export function epochTableMarkdown(rows: readonly EpochRow[], title: string): string {
  const columns = columnsOf(rows);
  const header = `| epoch | ${columns.join(' | ')} |`;
  const rule = `| ---: | ${columns.map(() => '---:').join(' | ')} |`;
  const body = rows.map((row) => `| ${row.epoch} | ${columns.map((c) => format(row[c])).join(' | ')} |`);
  return [`### ${title}`, '', header, rule, ...body, ''].join('\n');
}

/** The per-epoch metrics as CSV (`epoch,<metric>,...`, empty cells where not measured). */
export function epochTableCsv(rows: readonly EpochRow[]): string {
  const columns = columnsOf(rows);
  const body = rows.map((row) => [String(row.epoch), ...columns.map((c) => format(row[c]))].join(','));
  return [['epoch', ...columns].join(','), ...body].join('\n') + '\n';
}
