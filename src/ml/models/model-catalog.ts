import { z } from 'zod';
import { exactSchema, positiveInt } from '../../util/schema.js';
import type { BasicCnnConfig } from './basic-cnn.js';

/**
 * What the planner knows about each model family without loading tfjs (as the stage catalog does for stages): the
 * schema of the family's own config, its input size, how pixels are prepared for it, and where its starting weights
 * come from. The builders are in registry.ts, loaded on demand. A new family is one builder file plus one entry here
 * and one in the registry.
 */
export interface ModelFamily {
  /** The family's architecture parameters; `train` params hold them beside the training-loop ones. */
  config: z.ZodObject;
  /** Side, in pixels, of the square input the family was designed (and, with pretrained weights, trained) for. */
  inputSize: number;
  /** How 0..255 pixels are scaled before the model sees them. */
  preprocess: Preprocess;
  /** Where the starting weights come from: `initializers` draws them fresh (from the trial's seed). */
  weights: 'initializers';
}

/** `unit`: pixels / 255, in [0, 1]. */
export type Preprocess = 'unit';

export const BasicCnnConfigSchema = exactSchema<BasicCnnConfig>()(
  z.strictObject({
    filters: z.array(positiveInt).length(3).default([32, 64, 128]).describe('Filters of the three conv blocks.'),
    denseUnits: positiveInt.default(128).describe('Units of the hidden dense layer.'),
    dropout: z.number().min(0).lt(1).default(0.5).describe('Dropout rate before the output layer.'),
  }),
);

/** The catalogue: one entry per model family, by its `train.model` name. */
export const MODEL_CATALOG = {
  /** The report's CNN, trained from scratch at whatever size ingest gives (the report: 64×64). */
  'basic-cnn': { config: BasicCnnConfigSchema, inputSize: 64, preprocess: 'unit', weights: 'initializers' },
} as const satisfies Record<string, ModelFamily>;

export type ModelName = keyof typeof MODEL_CATALOG;
/** The config type of one family. */
export type ModelConfig<N extends ModelName> = z.output<(typeof MODEL_CATALOG)[N]['config']>;

/** Every family name, in catalogue order. */
export const MODEL_NAMES = Object.keys(MODEL_CATALOG) as [ModelName, ...ModelName[]];
/** The family a `train` stage uses when its params name none. */
export const DEFAULT_MODEL: ModelName = 'basic-cnn';

/** Whether `name` is a family in the catalogue. */
export function isModelName(name: string): name is ModelName {
  return Object.hasOwn(MODEL_CATALOG, name);
}
