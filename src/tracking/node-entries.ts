import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { toMetricValue, type MetricPoint } from './journal.js';

/** Files above this size are left out of a run's artifacts; they stay in the workspace. */
const MAX_ARTIFACT_BYTES = 200 * 1024 * 1024;

/**
 * An MLflow-safe name: MLflow accepts letters, digits and `_ - . / space` in keys, so anything else (the `@` of a
 * partly shared node id, say) becomes `_`.
 */
export function sanitizeKey(key: string): string {
  return key.replace(/[^\w\-./ ]/g, '_').slice(0, 250);
}

/** Params flattened to `prefix.key[.subkey]` → text: nested objects by dot-path, arrays and others as JSON. */
export function flattenParams(prefix: string, params: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (key: string, value: unknown) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [inner, innerValue] of Object.entries(value as Record<string, unknown>)) {
        visit(`${key}.${inner}`, innerValue);
      }
    } else {
      out[sanitizeKey(key)] = typeof value === 'string' ? value : JSON.stringify(value ?? null);
    }
  };
  for (const [key, value] of Object.entries(params)) visit(`${prefix}.${key}`, value);
  return out;
}

/** A node's summary metrics as points `prefix.key` at one step. */
export function metricPoints(
  prefix: string,
  metrics: Record<string, number>,
  step: number,
  timestamp: number,
): MetricPoint[] {
  return Object.entries(metrics).map(([key, value]) => ({
    key: sanitizeKey(`${prefix}.${key}`),
    value: toMetricValue(value),
    step,
    timestamp,
  }));
}

/** Per-epoch points from a progress update (`step` = epoch), keys unprefixed so trials chart together. */
export function epochPoints(
  epoch: number,
  metrics: Record<string, number>,
  timestamp: number,
  prefix = '',
): MetricPoint[] {
  return Object.entries(metrics).map(([key, value]) => ({
    key: sanitizeKey(prefix ? `${prefix}.${key}` : key),
    value: toMetricValue(value),
    step: epoch,
    timestamp,
  }));
}

/**
 * The per-epoch series of a finished node read back from its `history.json` (rows with an `epoch`), for a cached
 * node logged to a run that never saw it train. Empty when the node keeps no history.
 */
export function historyPoints(nodeDir: string, timestamp: number, prefix = ''): MetricPoint[] {
  const file = path.join(nodeDir, 'history.json');
  if (!existsSync(file)) return [];
  try {
    const rows = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>[];
    return rows.flatMap((row) => {
      if (typeof row.epoch !== 'number') return [];
      const values = Object.fromEntries(
        Object.entries(row).flatMap(([key, value]) =>
          key !== 'epoch' ? [[key, value === null ? NaN : Number(value)] as const] : [],
        ),
      );
      return epochPoints(row.epoch, values, timestamp, prefix);
    });
  } catch {
    return [];
  }
}

/**
 * The files of a node output folder worth keeping as artifacts: reports, plots, the model. Left out: the store's
 * own `result.json`, data sets (a top-level `name.bin` with its `name.json`, the images themselves) and huge files.
 */
export function selectArtifacts(nodeDir: string): string[] {
  if (!existsSync(nodeDir)) return [];
  const entries = readdirSync(nodeDir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(nodeDir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'));
  const datasets = new Set(entries.filter((name) => /^[^/]+\.bin$/.test(name)).map((name) => name.slice(0, -4)));
  return entries
    .filter((name) => name !== 'result.json')
    .filter((name) => !datasets.has(name.replace(/\.(bin|json)$/, '')))
    .filter((name) => statSync(path.join(nodeDir, name)).size <= MAX_ARTIFACT_BYTES)
    .sort();
}
