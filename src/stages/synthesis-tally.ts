import type { MaskVariant } from '../ml/masks/mask-geometry.js';
import type { SynthesizeParams } from './catalog.js';
import type { SynthesisPlan } from './synthesis-plan.js';

/** What happened to one source image, or to one copy drawn from it. */
export type SynthesisEvent =
  /** A source image without a usable face (unreadable, too small, grey, no face found). */
  | { kind: 'skipped'; file: string; reason: string }
  /** A source image with faces, by how each was found. */
  | { kind: 'faces'; methods: readonly ('detector' | 'whole-image')[] }
  /** A synthesized copy: its variant, its class, and how many masks it wears. */
  | { kind: 'copy'; variant: MaskVariant; label: number; masks: number };

/** The counts of a synthesize run, from its events; becomes `synthesis-report.json`. */
export class SynthesisTally {
  private withFaces = 0;
  private readonly faces = { detector: 0, wholeImage: 0 };
  private masks = 0;
  private readonly perVariant: Record<string, number> = {};
  private readonly perLabel = new Map<number, number>();
  private copies = 0;
  readonly failures: { file: string; reason: string }[] = [];

  add(event: SynthesisEvent): void {
    switch (event.kind) {
      case 'skipped':
        this.failures.push({ file: event.file, reason: event.reason });
        return;
      case 'faces':
        this.withFaces++;
        for (const method of event.methods) this.faces[method === 'detector' ? 'detector' : 'wholeImage']++;
        return;
      case 'copy':
        this.copies++;
        this.masks += event.masks;
        this.perVariant[event.variant] = (this.perVariant[event.variant] ?? 0) + 1;
        this.perLabel.set(event.label, (this.perLabel.get(event.label) ?? 0) + 1);
        return;
    }
  }

  /** Source images looked at so far: each has faces or was skipped. */
  get imagesTried(): number {
    return this.withFaces + this.failures.length;
  }

  get imagesSynthesized(): number {
    return this.copies;
  }

  get masksMade(): number {
    return this.masks;
  }

  get facesFound(): number {
    return this.faces.detector + this.faces.wholeImage;
  }

  /** One progress line: images tried of `total`, with faces, synthesized, and the face rate. */
  progressLine(total: number, facesPerSecond: number): string {
    return (
      `${this.imagesTried}/${total} images: ${this.withFaces} with faces, ${this.copies} synthesized, ` +
      `${facesPerSecond.toFixed(1)} faces/s`
    );
  }

  /** Why a run made no mask: the three most common reasons its sources were skipped. */
  noFaceMessage(): string {
    const reasons = new Map<string, number>();
    for (const { reason } of this.failures) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    const top = [...reasons.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3);
    return (
      `synthesize: no usable face in any of the ${this.imagesTried} source images ` +
      `(${top.map(([reason, count]) => `${count}× ${reason}`).join('; ') || 'no source images'})`
    );
  }

  /** The report: what was asked for, what was found and made, and how fast. */
  toReport(plan: SynthesisPlan, params: SynthesizeParams, backend: string, seconds: number) {
    const total = this.facesFound;
    return {
      seed: params.seed,
      backend,
      sources: params.sources,
      variants: params.variants,
      classes: plan.classes,
      imagesTried: this.imagesTried,
      imagesWithFaces: this.withFaces,
      yield: this.imagesTried === 0 ? 0 : this.withFaces / this.imagesTried,
      faces: { total, detector: this.faces.detector, wholeImage: this.faces.wholeImage },
      masksMade: this.masks,
      imagesSynthesized: this.copies,
      perVariant: this.perVariant,
      perClassAdded: Object.fromEntries(plan.classes.map((name, k) => [name, this.perLabel.get(k) ?? 0])),
      seconds,
      facesPerSecond: total / Math.max(1e-3, seconds),
      failures: this.failures,
    };
  }
}
