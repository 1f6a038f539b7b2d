import * as tf from '@tensorflow/tfjs';
import { PipelineError } from '../errors.js';

import { BACKENDS, type BackendChoice, type BackendName } from './backend-names.js';
import { registerNativeGradients } from './native-gradients.js';

export { BACKENDS, type BackendChoice, type BackendName };

const NATIVE_PACKAGES: Record<Exclude<BackendName, 'cpu'>, string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

let selected: BackendName | undefined;

/**
 * Makes tfjs use the best available backend (or the forced one) and returns its name.
 * The native packages register the `tensorflow` backend into the same tfjs instance when they load.
 * A forced backend that does not load is a BACKEND_UNAVAILABLE error naming the package to install.
 */
export async function selectBackend(choice: BackendChoice = 'auto'): Promise<BackendName> {
  if (selected) return selected;
  const candidates = choice === 'auto' ? BACKENDS : [choice];
  const failures: string[] = [];
  for (const name of candidates) {
    if (await tryBackend(name, failures)) {
      selected = name;
      return name;
    }
  }
  const remedy =
    choice === 'auto' || choice === 'cpu' ? '' : `; install ${NATIVE_PACKAGES[choice]}, or use --backend auto`;
  throw new PipelineError(
    'BACKEND_UNAVAILABLE',
    `backend ${choice} is not available (${failures.join('; ')})${remedy}`,
  );
}

async function tryBackend(name: BackendName, failures: string[]): Promise<boolean> {
  if (name === 'cpu') {
    // The CPU backend prints an advert for tfjs-node on its first tensor under Node; we report the backend ourselves.
    const warn = console.warn;
    console.warn = () => undefined;
    try {
      const ready = await tf.setBackend('cpu');
      if (ready) tf.dispose(tf.scalar(0));
      return ready;
    } finally {
      console.warn = warn;
    }
  }
  try {
    await import(NATIVE_PACKAGES[name]);
    const ready = await tf.setBackend('tensorflow');
    if (ready) registerNativeGradients();
    return ready;
  } catch (error) {
    failures.push(`${name}: ${(error as Error).message.split('\n')[0] ?? ''}`);
    return false;
  }
}

/**
 * Starts tracking what a stage creates in tfjs; the returned function disposes every tensor it left behind and every
 * variable (its models and optimizer state), so a reused stage process starts the next stage with nothing held.
 */
export function trackStageTensors(): () => void {
  tf.engine().startScope();
  return () => {
    tf.engine().endScope();
    tf.disposeVariables();
  };
}
