import type { MetricValue } from './journal-records.js';

/** One metric point as `runs/log-batch` takes it; `model_id` and `dataset_*` link it to a logged model and data set. */
export interface BatchMetric {
  key: string;
  value: MetricValue;
  step: number;
  timestamp: number;
  model_id?: string;
  dataset_name?: string;
  dataset_digest?: string;
}

/** A `runs/log-batch` body without its run id; {@link chunkBatch} splits it as MLflow's limits need. */
export interface Batch {
  metrics: BatchMetric[];
  params: { key: string; value: string }[];
  tags: { key: string; value: string }[];
}

/** MLflow's documented request limits for `runs/log-batch`. */
const BATCH_LIMITS = {
  metrics: 1000,
  params: 100,
  tags: 100,
  total: 1000,
  /** Bytes of the JSON body; kept a little under MLflow's 1 MB so the run id and framing fit. */
  bytes: 1_000_000 - 1_000,
  /** Longest param value MLflow stores. */
  paramValue: 6000,
  /** Longest tag value MLflow stores. */
  tagValue: 8000,
} as const;

type Kind = keyof Batch;

/**
 * Splits one batch into requests MLflow accepts: at most 1000 metrics, 100 params, 100 tags and 1000 entities in
 * all, and under 1 MB of JSON each. Order within each kind is kept, so a metric series arrives in order.
 */
export function chunkBatch(batch: Batch): Batch[] {
  const chunks: Batch[] = [];
  let current = emptyBatch();
  let bytes = 64;
  const push = <K extends Kind>(kind: K, entity: Batch[K][number]) => {
    const size = Buffer.byteLength(JSON.stringify(entity)) + 1;
    const full =
      current[kind].length >= BATCH_LIMITS[kind] ||
      current.metrics.length + current.params.length + current.tags.length >= BATCH_LIMITS.total ||
      bytes + size > BATCH_LIMITS.bytes;
    if (full && !isEmpty(current)) {
      chunks.push(current);
      current = emptyBatch();
      bytes = 64;
    }
    (current[kind] as Batch[K][number][]).push(entity);
    bytes += size;
  };
  // Params first: a run's params should be there before its metrics, as MLflow's own client logs them.
  for (const param of batch.params) push('params', { key: param.key, value: clip(param.value, 'paramValue') });
  for (const tag of batch.tags) push('tags', { key: tag.key, value: clip(tag.value, 'tagValue') });
  for (const metric of batch.metrics) push('metrics', metric);
  if (!isEmpty(current)) chunks.push(current);
  return chunks;
}

function emptyBatch(): Batch {
  return { metrics: [], params: [], tags: [] };
}

function isEmpty(batch: Batch): boolean {
  return batch.metrics.length + batch.params.length + batch.tags.length === 0;
}

// MLflow rejects longer values outright; a clipped value is deterministic, so re-sending it stays idempotent.
function clip(value: string, limit: 'paramValue' | 'tagValue'): string {
  const max = BATCH_LIMITS[limit];
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}
