import type { Trial } from '../types.js';

/** A short human label for a trial: `lr=0.001 optimizer=adam batchSize=32`. */
export function describeTrial(trial: Trial): string {
  return Object.entries(trial.params)
    .map(
      ([key, value]) => `${key.split('.').pop() ?? key}=${typeof value === 'string' ? value : JSON.stringify(value)}`,
    )
    .join(' ');
}
