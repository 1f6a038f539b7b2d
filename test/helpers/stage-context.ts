import { cancellationCheck, type StageContext } from '../../src/stages/stage-context.js';
import { tempDir } from './temp-project.js';

/** A stage context on fresh folders, as a worker builds one; `signal` stands for the run's cancellation. */
export function stageContext(
  inputs: StageContext['inputs'] = {},
  options: { signal?: AbortSignal; backend?: string; sourceData?: string } = {},
): StageContext {
  const signal = options.signal ?? new AbortController().signal;
  return {
    outDir: tempDir('stage-out-'),
    checkpointDir: tempDir('stage-checkpoint-'),
    inputs,
    ...(options.sourceData === undefined ? {} : { sourceData: options.sourceData }),
    log: () => undefined,
    progress: () => undefined,
    signal,
    throwIfCancelled: cancellationCheck(signal, 'test stage'),
    backend: options.backend ?? 'none',
  };
}
