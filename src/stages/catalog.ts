import { z } from 'zod';
import { STAGE_KINDS, type StageKind } from '../types.js';
import type { AugmentOptions } from '../ml/data/augment.js';
import { MASK_VARIANTS } from '../ml/masks/mask-geometry.js';
import { MASK_PATTERNS, MASK_SHAPES } from '../ml/masks/mask-style.js';
import { DEFAULT_MODEL, MODEL_CATALOG, MODEL_NAMES, type ModelName } from '../ml/models/model-catalog.js';
import { OPTIMIZERS } from '../ml/train/optimizer-names.js';
import { exactSchema, positiveInt } from '../util/schema.js';

/**
 * What the planner knows about each stage kind without loading its implementation (and tfjs):
 * its params schema, its code version (part of every cache key: bump it when the stage's output changes
 * for the same params), which upstream kinds it reads, and the resources it asks a worker for.
 */
export interface StageInfo {
  kind: StageKind;
  version: string;
  /** Validates and fills in defaults: an object schema, or a union of them (train: one per model family). */
  params: z.ZodType<Record<string, unknown>>;
  /** Upstream data it reads: each entry is satisfied by one `needs` of any of the listed kinds. */
  inputs: readonly (readonly StageKind[])[];
  resources: { gpu: number };
  /** Whether the stage computes with tfjs: its process selects the backend before it starts. */
  tensors: boolean;
  /** Whether it re-reads the original images of its ingest input's data folder (given as `sourceData`). */
  readsSourceData?: boolean;
}

const seed = z.number().int().nonnegative().default(42).describe('Random seed; same seed, same result.');

export const IngestParamsSchema = z.strictObject({
  dataDir: z.string().min(1).describe('Folder with one sub-folder per class, relative to the pipeline file.'),
  imageSize: z.number().int().min(8).max(512).default(64).describe('Images are resized to imageSize×imageSize.'),
  classes: z
    .record(z.string(), z.string().min(1))
    .optional()
    .describe('Map folder name → class name; folders not listed are ignored. Default: every sub-folder is a class.'),
  maxPerClass: positiveInt.optional().describe('Keep at most this many images per class (first by sorted path).'),
});

export const SynthesizeParamsSchema = z.strictObject({
  sources: z
    .array(z.string().min(1))
    .min(1)
    .describe('Classes (of the ingest output) whose images get masks drawn on, e.g. [without_mask].'),
  perImage: positiveInt
    .default(1)
    .describe(
      'Synthesized images per source image. Copy k of source i wears the (i + k) mod n-th of the n variants (in the ' +
        'order proper, improper-nose, improper-chin, improper-mouth), so perImage = n gives every source each variant.',
    ),
  variants: z
    .partialRecord(z.enum(MASK_VARIANTS), z.string().min(1))
    .refine((map) => Object.keys(map).length > 0, 'name at least one variant')
    .describe(
      'Mask variant → output class. 2-class as in the ResNet report: {proper: with_mask, improper-nose: without_mask}; ' +
        '3-class: improper variants → improper_mask. A class the ingest output lacks is appended to the classes.',
    ),
  shapes: z
    .array(z.enum(MASK_SHAPES))
    .min(1)
    .default([...MASK_SHAPES])
    .describe('Mask shapes to draw from: surgical | cloth | n95.'),
  patterns: z
    .array(z.enum(MASK_PATTERNS))
    .min(1)
    .default([...MASK_PATTERNS])
    .describe('Fabric patterns to draw from: plain | stripes | dots | checks | print.'),
  minConfidence: z.number().gt(0).lt(1).default(0.3).describe('Face detector (SSD MobileNet v1) score a face needs.'),
  maxFaces: positiveInt.default(4).describe('Masks go on at most this many faces per image, best detections first.'),
  fallback: z
    .boolean()
    .default(true)
    .describe('Where the detector finds no face, run landmarks on the whole image (tight crops); kept if face-shaped.'),
  maxSide: z
    .number()
    .int()
    .min(64)
    .max(4096)
    .default(1024)
    .describe('Source images are re-read at full resolution, scaled down to at most this many pixels a side.'),
  maxSources: positiveInt.optional().describe('Use at most this many source images, first in dataset order.'),
  montage: z.number().int().min(0).max(32).default(8).describe('Examples per variant in montage.png; 0 for none.'),
  seed,
});

export const SplitParamsSchema = z.strictObject({
  valFraction: z
    .number()
    .gt(0, 'must be in (0, 1)')
    .lt(1, 'must be in (0, 1)')
    .default(0.2)
    .describe('Share of each class held out for validation.'),
  seed,
});

export const AugmentSchema = exactSchema<AugmentOptions>()(
  z.strictObject({
    rotation: z.number().min(0).max(180).default(0).describe('Max rotation in degrees.'),
    widthShift: z.number().min(0).lt(1).default(0).describe('Max horizontal shift, fraction of width.'),
    heightShift: z.number().min(0).lt(1).default(0).describe('Max vertical shift, fraction of height.'),
    shear: z.number().min(0).max(45).default(0).describe('Max shear in degrees.'),
    zoom: z.number().min(0).lt(1).default(0).describe('Zoom range: scale drawn from [1-zoom, 1+zoom].'),
    horizontalFlip: z.boolean().default(false).describe('Flip half of the images left-right.'),
  }),
);

/** The training loop's params, the same for every model family. */
const TRAIN_LOOP = {
  optimizer: z.enum(OPTIMIZERS).default('adam').describe('sgd | adam | rmsprop.'),
  lr: z.number().gt(0, { message: 'must be > 0' }).default(1e-3).describe('Learning rate.'),
  batchSize: positiveInt.default(32).describe('Images per gradient step.'),
  epochs: positiveInt.default(10).describe('Passes over the training set.'),
  augment: AugmentSchema.optional().describe('Random training-time augmentation; none when absent.'),
  seed,
};

/** `train` params for one model family: its name, its own config (ml/models/model-catalog.ts), the loop's params. */
function familyParams<N extends ModelName, C extends z.ZodRawShape>(name: N, config: C) {
  const model = z.literal(name).describe(`Model family: ${MODEL_NAMES.join(' | ')}.`);
  return z.strictObject({
    model: name === DEFAULT_MODEL ? model.default(name) : model,
    ...config,
    ...TRAIN_LOOP,
  });
}

// Spelled out per family (not mapped over MODEL_NAMES) so each option's type keeps its own family's keys.
const FAMILY_PARAMS = [
  familyParams('basic-cnn', MODEL_CATALOG['basic-cnn'].config.shape),
  familyParams('resnet50v2', MODEL_CATALOG.resnet50v2.config.shape),
  familyParams('mobilenetv2', MODEL_CATALOG.mobilenetv2.config.shape),
] as const satisfies readonly { shape: { model: z.ZodType<ModelName> } }[];

/** One option per family, told apart by `model` (default: basic-cnn), so each family has exactly its own keys. */
export const TrainParamsSchema = z.discriminatedUnion('model', FAMILY_PARAMS, {
  error: (issue) =>
    issue.code === 'invalid_union'
      ? `Invalid option: expected one of ${MODEL_NAMES.map((n) => `"${n}"`).join('|')}`
      : undefined,
});

/**
 * `train` params switched to family `model` (a `--set train.model=...` or a grid over models): keys of other families'
 * own configs (the basic CNN's `filters`, `denseUnits`) are dropped, so a pipeline written for one family runs with
 * another; the training loop's keys, keys both families share, and unknown keys (still an error) are kept.
 */
export function switchTrainFamily(params: Record<string, unknown>, model: ModelName): Record<string, unknown> {
  const own = new Set(Object.keys(MODEL_CATALOG[model].config.shape));
  const others = new Set(MODEL_NAMES.flatMap((name) => Object.keys(MODEL_CATALOG[name].config.shape)));
  return Object.fromEntries(Object.entries(params).filter(([key]) => own.has(key) || !others.has(key)));
}

/** Validates `raw` as `train` params of family `model` (defaults filled in); throws a ZodError on bad input. */
export function parseTrainParams<N extends ModelName>(model: N, raw: Record<string, unknown>): TrainParamsFor<N> {
  // The discriminated union picks the option whose `model` literal is N, so the output is that option's type.
  return TrainParamsSchema.parse({ ...raw, model }) as TrainParamsFor<N>;
}

/** Families with a backbone: the ones an `embed` node can compute features for. */
const BACKBONE_MODELS = MODEL_NAMES.filter((name) => MODEL_CATALOG[name].backboneLayers > 0) as [
  ModelName,
  ...ModelName[],
];

/**
 * Params of an `embed` node: what a frozen backbone's features depend on. The planner derives them from a `train`
 * node's params (plan/embed-node.ts); `seed` matters only to a backbone without pretrained weights.
 */
export const EmbedParamsSchema = z.strictObject({
  model: z.enum(BACKBONE_MODELS).describe('Model family whose backbone embeds the images.'),
  inputSize: positiveInt.describe('Side of the square input the images are resized to.'),
  pretrained: z.union([z.boolean(), z.string().min(1)]).describe("The backbone's weights, as train.pretrained."),
  seed,
});

/**
 * How a `train` node with these (validated) params trains a backbone family: `{ embed }` when only the head trains on
 * a frozen backbone, so the planner gives it an `embed` node computing the features once (shared by every trial with
 * equal embed params); `{ endToEnd }` with the reason when the backbone must run inside the training loop; undefined
 * for a family without a backbone.
 */
export function backboneTraining(params: TrainParams): { embed: EmbedParams } | { endToEnd: string } | undefined {
  if (!('inputSize' in params)) return undefined;
  if (params.freeze !== 'backbone') return { endToEnd: `freeze: ${params.freeze} trains backbone layers` };
  if (params.fineTune) return { endToEnd: 'fineTune unfreezes the backbone' };
  if (params.augment) return { endToEnd: 'augmentation changes the images every epoch' };
  // Pretrained weights replace every backbone weight, so the seed only matters to a randomly initialised backbone.
  const seed = params.pretrained === false ? params.seed : 0;
  return { embed: { model: params.model, inputSize: params.inputSize, pretrained: params.pretrained, seed } };
}

export const EvaluateParamsSchema = z.strictObject({
  threshold: z.number().gt(0).lt(1).default(0.5).describe('Decision threshold of a sigmoid (2-class) model.'),
  digits: z.number().int().min(1).max(8).default(2).describe('Digits in the text report.'),
});

export const VisualizeParamsSchema = z.strictObject({
  width: z.number().int().min(200).max(4000).default(720).describe('Chart width in pixels.'),
  height: z.number().int().min(150).max(3000).default(420).describe('Chart height in pixels.'),
  camImages: z
    .number()
    .int()
    .min(0)
    .max(64)
    .default(8)
    .describe('Validation images in cam.png (both classes, mistakes first); 0 for none. Needs a split in needs.'),
  featureChannels: z
    .number()
    .int()
    .min(0)
    .max(64)
    .default(16)
    .describe('Channels drawn per conv+pool block in feature-maps-*.png, one image per class; 0 for none.'),
  mistakes: z
    .number()
    .int()
    .min(0)
    .max(128)
    .default(16)
    .describe('Most confident mistakes in misclassified.png; 0 for none.'),
});

export type IngestParams = z.infer<typeof IngestParamsSchema>;
export type SynthesizeParams = z.infer<typeof SynthesizeParamsSchema>;
export type SplitParams = z.infer<typeof SplitParamsSchema>;
export type EmbedParams = z.infer<typeof EmbedParamsSchema>;
export type TrainParams = z.infer<typeof TrainParamsSchema>;
/** `train` params of one model family. */
export type TrainParamsFor<N extends ModelName> = Extract<TrainParams, { model: N }>;
export type EvaluateParams = z.infer<typeof EvaluateParamsSchema>;
export type VisualizeParams = z.infer<typeof VisualizeParamsSchema>;

const cpu = { gpu: 0 };
const gpu = { gpu: 1 };

/** The catalog: one entry per stage kind. */
export const STAGES: Readonly<Record<StageKind, StageInfo>> = {
  ingest: { kind: 'ingest', version: '1', params: IngestParamsSchema, inputs: [], resources: cpu, tensors: false },
  synthesize: {
    kind: 'synthesize',
    version: '1',
    params: SynthesizeParamsSchema,
    inputs: [['ingest']],
    resources: cpu,
    tensors: true,
    readsSourceData: true,
  },
  split: {
    kind: 'split',
    version: '2',
    params: SplitParamsSchema,
    inputs: [['synthesize', 'ingest']],
    resources: cpu,
    tensors: false,
  },
  embed: {
    kind: 'embed',
    version: '1',
    params: EmbedParamsSchema,
    inputs: [['split']],
    resources: gpu,
    tensors: true,
  },
  train: {
    kind: 'train',
    version: '1',
    params: TrainParamsSchema,
    inputs: [['split']],
    resources: gpu,
    tensors: true,
  },
  evaluate: {
    kind: 'evaluate',
    version: '1',
    params: EvaluateParamsSchema,
    inputs: [['train'], ['split']],
    resources: gpu,
    tensors: true,
  },
  // Reads the split too when it is among its needs (optional, so older pipeline files stay valid): the pictures of
  // the model's view of validation images (CAMs, feature maps, mistakes) need them.
  visualize: {
    kind: 'visualize',
    version: '3',
    params: VisualizeParamsSchema,
    inputs: [['train'], ['evaluate']],
    resources: cpu,
    tensors: true,
  },
};

/** Whether `kind` names a stage in the catalog. */
export function isStageKind(kind: string): kind is StageKind {
  return (STAGE_KINDS as readonly string[]).includes(kind);
}
