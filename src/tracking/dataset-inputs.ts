import path from 'node:path';
import type { Plan, PlanNode } from '../types.js';
import type { DatasetInput } from './journal-records.js';

/** What a split's stored part (`train.json` + `train.bin`) says about itself, as the tracker read it. */
export interface DatasetFacts {
  /** `train` or `val`: the part, and the MLflow input context. */
  part: string;
  /** Hash of the part's stored contents (pixels, labels, file list). */
  digest: string;
  classes: string[];
  /** Images per class, in `classes` order. */
  counts: number[];
  /** [height, width, channels] of every image. */
  shape: [number, number, number];
}

/**
 * The data sets of a trial as MLflow inputs, one per split part: named `<data folder>-<part>` (`face-mask-train`),
 * digest = content hash, source = the data folder, schema = the image and label tensors, profile = image count and
 * images per class. MLflow shows them in the runs table's Dataset column and filters runs by them.
 */
export function datasetInputs(facts: readonly DatasetFacts[], dataDir: string | undefined): DatasetInput[] {
  const folder = dataDir ? path.basename(path.resolve(dataDir)) : 'dataset';
  return facts.map((part) => ({
    name: `${folder}-${part.part}`,
    digest: part.digest,
    context: part.part,
    sourceType: 'local',
    source: JSON.stringify({ uri: dataDir ? path.resolve(dataDir) : '' }),
    schema: JSON.stringify({
      mlflow_tensorspec: {
        features: JSON.stringify([{ type: 'tensor', 'tensor-spec': { dtype: 'uint8', shape: [-1, ...part.shape] } }]),
        targets: JSON.stringify([{ type: 'tensor', 'tensor-spec': { dtype: 'int64', shape: [-1] } }]),
      },
    }),
    profile: JSON.stringify({
      num_rows: part.counts.reduce((sum, n) => sum + n, 0),
      classes: Object.fromEntries(part.classes.map((name, k) => [name, part.counts[k] ?? 0])),
    }),
  }));
}

/** The data set a trial's evaluation metrics were measured on (the validation part), for linking its metrics. */
export function validationDataset(inputs: readonly DatasetInput[]): { name: string; digest: string } | undefined {
  const val = inputs.find((input) => input.context === 'val');
  return val && { name: val.name, digest: val.digest };
}

/**
 * A trial's data set inputs: the parts of the split it uses (`partsOf` gives a finished node's parts, by node id),
 * sourced from the data folder of its ingest node; none before its split has finished.
 */
export function trialDatasets(
  plan: Plan,
  trialId: string,
  partsOf: (nodeId: string) => DatasetFacts[] | undefined,
): DatasetInput[] {
  const uses = (kind: string) => (node: PlanNode) => node.kind === kind && node.trials.includes(trialId);
  const split = plan.nodes.find(uses('split'));
  const facts = split ? partsOf(split.id) : undefined;
  const dataDir = plan.nodes.find(uses('ingest'))?.params.dataDir;
  return facts ? datasetInputs(facts, typeof dataDir === 'string' ? dataDir : undefined) : [];
}
