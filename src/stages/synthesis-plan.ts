import { NonRetryableStageError } from '../errors.js';
import type { Dataset } from '../ml/data/dataset-file.js';
import { MASK_VARIANTS, type MaskVariant } from '../ml/masks/mask-geometry.js';
import type { SynthesizeParams } from './catalog.js';

/** A mask variant and the output class its copies get. */
export interface VariantClass {
  variant: MaskVariant;
  label: number;
}

/** What the synthesize stage works from: the output classes, the variant of each copy, and the source images. */
export interface SynthesisPlan {
  classes: string[];
  variants: VariantClass[];
  /** Indices into the ingest dataset. */
  sources: number[];
}

/** Checks the source classes exist, appends new output classes, and lists the source images. */
export function planSynthesis(
  dataset: Pick<Dataset, 'classes' | 'labels'>,
  params: Pick<SynthesizeParams, 'sources' | 'variants' | 'maxSources'>,
): SynthesisPlan {
  const missing = params.sources.filter((name) => !dataset.classes.includes(name));
  if (missing.length > 0) {
    throw new NonRetryableStageError(
      `synthesize.sources: ${missing.join(', ')} not among the ingest classes (${dataset.classes.join(', ')})`,
    );
  }
  const classes = [...dataset.classes];
  // In catalog order, not the order the file lists them: the cache key hashes params with sorted keys, so the
  // output must not depend on key order either.
  const variants = MASK_VARIANTS.flatMap((variant) => {
    const name = params.variants[variant];
    if (name === undefined) return [];
    if (!classes.includes(name)) classes.push(name);
    return [{ variant, label: classes.indexOf(name) }];
  });
  const sourceLabels = new Set(params.sources.map((name) => dataset.classes.indexOf(name)));
  const sources = dataset.labels.flatMap((label, index) => (sourceLabels.has(label) ? [index] : []));
  return { classes, variants, sources: sources.slice(0, params.maxSources ?? sources.length) };
}

/** Copy `copy` of the `ordinal`-th source wears the (ordinal + copy) mod n-th variant, so n copies give each once. */
export function variantOf(plan: SynthesisPlan, ordinal: number, copy: number): VariantClass {
  const entry = plan.variants[(ordinal + copy) % plan.variants.length];
  if (!entry) throw new Error('a synthesis plan has at least one variant');
  return entry;
}

/**
 * The seed of one copy's mask styles, from the run's seed, the source's dataset index and the copy number: per
 * source and copy, not per run order, so a copy looks the same however the work is chunked.
 */
export function copySeed(seed: number, source: number, copy: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (source + 0x632be5ab), 0xc2b2ae35) >>> 0;
  h = Math.imul(h ^ (copy + 0x27d4eb2f), 0x165667b1) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** The dataset file name of a synthesized copy: `<source file>#<variant>-<n>`, n counting from 1. */
export function copyFileName(sourceFile: string, variant: MaskVariant, copy: number): string {
  return `${sourceFile}#${variant}-${copy + 1}`;
}

/** The source file a dataset entry was made from: itself, or the source of a synthesized copy (up to the first `#`). */
export function sourceFileOf(file: string): string {
  return file.split('#')[0] ?? file;
}
