import { parseTrainParams, type TrainParamsFor } from '../../src/stages/catalog.js';
import type { CpuUse } from './cpu-usage.js';

/** The report's CNN and training settings; the Keras script gets the same values on its command line. */
export const BENCH_PARAMS: TrainParamsFor<'basic-cnn'> = parseTrainParams('basic-cnn', {
  filters: [32, 64, 128],
  denseUnits: 128,
  dropout: 0.5,
  batchSize: 32,
  epochs: 3,
  optimizer: 'adam',
  lr: 1e-3,
});

export const IMAGE_SIZE = 64;

/** What every runner (tfjs worker, Keras script) writes as JSON; keys are shared with bench/keras_throughput.py. */
export interface ThroughputResult {
  status: 'ok';
  backend: string;
  images: number;
  epochs: number;
  batchSize: number;
  /** From the call to fit() to the end of the first batch: graph tracing, kernel set-up, first allocations. */
  warmupSeconds: number;
  /** Images trained after the first batch, i.e. images × epochs − batch size. */
  timedImages: number;
  /** From the end of the first batch to the return of fit(). */
  seconds: number;
  imagesPerSecond: number;
  /** CPU time over the timed interval: this runner's, everything else's, and hypervisor steal. */
  cpu: CpuUse;
  finalLoss: number;
  versions: Record<string, string>;
  threads: string;
}

export interface SkippedResult {
  status: 'skipped';
  backend: string;
  reason: string;
}

export interface FailedResult {
  status: 'failed';
  backend: string;
  reason: string;
}

export type RunnerResult = ThroughputResult | SkippedResult | FailedResult;

export interface FitTiming {
  start: number;
  firstBatchEnd: number;
  end: number;
}

/** Steady-state throughput: the first batch is excluded (it is reported as warm-up) because it includes set-up. */
export function throughput(timing: FitTiming, images: number, epochs: number, batchSize: number) {
  const timedImages = images * epochs - Math.min(batchSize, images);
  const seconds = (timing.end - timing.firstBatchEnd) / 1000;
  return {
    warmupSeconds: (timing.firstBatchEnd - timing.start) / 1000,
    timedImages,
    seconds,
    imagesPerSecond: timedImages / seconds,
  };
}

/** Thread settings as TF sees them: both TF runtimes read these variables, and pick one thread per core without. */
export function threadSettings(env: NodeJS.ProcessEnv = process.env): string {
  const intra = env.TF_NUM_INTRAOP_THREADS ?? 'default';
  const inter = env.TF_NUM_INTEROP_THREADS ?? 'default';
  return `intra_op=${intra}, inter_op=${inter}`;
}
