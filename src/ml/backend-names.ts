/** Backends in order of preference; `auto` tries them in this order. No tfjs here: the CLI's flags read these names. */
export const BACKENDS = ['tensorflow-gpu', 'tensorflow', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];
export type BackendChoice = BackendName | 'auto';
