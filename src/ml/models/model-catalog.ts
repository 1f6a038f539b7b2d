import { z } from 'zod';
import { exactSchema, positiveInt } from '../../util/schema.js';
import type { BasicCnnConfig } from './basic-cnn.js';
import type { TransferConfig } from './transfer-head.js';

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
  /**
   * Where `pretrained: true` takes weights from: `initializers` (none packaged: true is refused) or an installed
   * package (read from its files at run time, never downloaded; ml/models/weights.ts).
   */
  weights: 'initializers' | 'nsfwjs';
  /** Layers of the backbone (the input layer not counted): what `freeze: N` may name at most. 0: no backbone. */
  backboneLayers: number;
  /** Weights a `pretrained` file must hold (first, middle, last layer): checked when the sweep is planned. */
  weightNames?: readonly string[];
}

/** `unit`: pixels / 255, in [0, 1]; `symmetric`: pixels / 127.5 - 1, in [-1, 1] (Keras' ResNet V2 and MobileNet V2). */
export type Preprocess = 'unit' | 'symmetric';

/** Limits of one backbone family's transfer options. */
interface TransferLimits {
  /** Default and smallest `inputSize`. */
  inputSize: number;
  minInputSize: number;
  backboneLayers: number;
  /** Whether the family ships weights (`pretrained: true`), which are then the default, frozen. */
  packaged: boolean;
}

/**
 * The options every family with a backbone shares (ml/models/transfer-head.ts): input size (images are resized on
 * the fly), head dropout, starting weights, frozen layers, and the optional two-phase fine-tuning.
 */
function transferSchema(limits: TransferLimits) {
  return exactSchema<TransferConfig>()(
    z.strictObject({
      inputSize: z
        .number()
        .int()
        .min(limits.minInputSize, `the model takes inputs of at least ${limits.minInputSize}×${limits.minInputSize}`)
        .max(1024)
        .default(limits.inputSize)
        .describe(`Side of the square input; images are resized to it on the fly (default ${limits.inputSize}).`),
      dropout: z.number().min(0).lt(1).default(0.5).describe('Dropout rate between global pooling and the output.'),
      pretrained: z
        .union([z.boolean(), z.string().min(1)])
        .refine((value) => value !== true || limits.packaged, 'this model ships no weights: give a path, or false')
        .default(limits.packaged)
        .describe(
          'true: the weights the family ships; false: fresh weights; a path: a tfjs Layers model (model.json + ' +
            'weights) loaded by layer name.',
        ),
      freeze: z
        .union([
          z.enum(['backbone', 'none']),
          z.number().int().min(0).max(limits.backboneLayers, `the backbone has ${limits.backboneLayers} layers`),
        ])
        .default(limits.packaged ? 'backbone' : 'none')
        .describe('Layers that do not train: backbone | none | this many leading layers.'),
      fineTune: z
        .strictObject({
          afterEpochs: positiveInt.describe('Epochs with the backbone frozen before it is unfrozen.'),
          lrFactor: z.number().gt(0).max(1).default(0.1).describe('The learning rate is multiplied by this.'),
        })
        .optional()
        .describe('Two-phase recipe: train the head on a frozen backbone, then unfreeze it and go on at a lower lr.'),
    }),
  );
}

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
  'basic-cnn': {
    config: BasicCnnConfigSchema,
    inputSize: 64,
    preprocess: 'unit',
    weights: 'initializers',
    backboneLayers: 0,
  },
  /** Keras' ResNet50V2 with a pooling → dropout → dense head; the ResNet report's model (64×64). */
  resnet50v2: {
    config: transferSchema({ inputSize: 64, minInputSize: 32, backboneLayers: 189, packaged: false }),
    inputSize: 64,
    preprocess: 'symmetric',
    weights: 'initializers',
    backboneLayers: 189,
    weightNames: ['conv1_conv/kernel', 'conv3_block1_0_conv/kernel', 'post_bn/moving_variance'],
  },
  /** Keras' MobileNetV2 (alpha 1.0) with nsfwjs' weights (MIT): pretrained and frozen by default. */
  mobilenetv2: {
    config: transferSchema({ inputSize: 224, minInputSize: 32, backboneLayers: 153, packaged: true }),
    inputSize: 224,
    // nsfwjs trained its MobileNetV2 on pixels / 255, not Keras' [-1, 1].
    preprocess: 'unit',
    weights: 'nsfwjs',
    backboneLayers: 153,
    weightNames: ['Conv1/kernel', 'block_8_expand/kernel', 'Conv_1_bn/moving_variance'],
  },
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
