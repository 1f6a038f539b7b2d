import * as tf from '@tensorflow/tfjs';

/** Backends in order of preference; `auto` tries them in this order. */
export const BACKENDS = ['tensorflow-gpu', 'tensorflow', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];
export type BackendChoice = BackendName | 'auto';

const NATIVE_PACKAGES: Record<Exclude<BackendName, 'cpu'>, string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

let selected: BackendName | undefined;

/**
 * Makes tfjs use the best available backend (or the forced one) and returns its name.
 * The native packages register the `tensorflow` backend into the same tfjs instance when they load.
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
  throw new Error(`backend ${choice} is not available: ${failures.join('; ')}`);
}

async function tryBackend(name: BackendName, failures: string[]): Promise<boolean> {
  if (name === 'cpu') {
    // tfjs prints an advert for tfjs-node when the CPU backend starts under Node; we report the backend ourselves.
    const warn = console.warn;
    console.warn = () => undefined;
    try {
      return await tf.setBackend('cpu');
    } finally {
      console.warn = warn;
    }
  }
  try {
    await import(NATIVE_PACKAGES[name]);
    return await tf.setBackend('tensorflow');
  } catch (error) {
    failures.push(`${name}: ${(error as Error).message.split('\n')[0] ?? ''}`);
    return false;
  }
}
