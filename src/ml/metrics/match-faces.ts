import type { Box, Point } from '../image/rgb-image.js';

/** An expected face: where it is (a box, or a point inside it) and its true class. */
export interface TruthFace {
  box?: Box;
  point?: Point;
  label: string;
}

/** A face the detector found and the class it was given. */
export interface PredictedFace {
  box: Box;
  label: string;
}

/** Which detection, if any, each truth face was matched with, and the detections matched with none. */
export interface FaceMatching {
  /** Per truth face: the index of its detection, or -1 (missed). */
  matches: number[];
  /** Indices of detections that match no truth face. */
  extra: number[];
}

/** Boxes overlapping at least this much (intersection over union) can be the same face. */
export const MIN_IOU = 0.3;

/**
 * Pairs truth faces with detections of the same photo, one to one. A pair can match when the boxes overlap
 * ({@link MIN_IOU}) or, for a truth point or boxes that overlap less (a detector box is tighter than a hand-drawn
 * one), when each contains the other's centre. Pairs are taken greedily, closest first.
 */
export function matchFaces(truth: readonly TruthFace[], detections: readonly PredictedFace[]): FaceMatching {
  const pairs: { t: number; d: number; score: number }[] = [];
  truth.forEach((face, t) =>
    detections.forEach((detection, d) => {
      const score = pairScore(face, detection.box);
      if (score > 0) pairs.push({ t, d, score });
    }),
  );
  pairs.sort((a, b) => b.score - a.score || a.t - b.t || a.d - b.d);
  const matches = truth.map(() => -1);
  const used = new Set<number>();
  for (const { t, d } of pairs) {
    if (matches[t] !== -1 || used.has(d)) continue;
    matches[t] = d;
    used.add(d);
  }
  return { matches, extra: detections.flatMap((_, d) => (used.has(d) ? [] : [d])) };
}

/** How well a truth face and a detection box agree, in (0, 2]; 0 when they cannot be the same face. */
function pairScore(face: TruthFace, box: Box): number {
  if (face.box) {
    const overlap = iou(face.box, box);
    if (overlap >= MIN_IOU) return 1 + overlap;
    return contains(box, centreOf(face.box)) && contains(face.box, centreOf(box))
      ? 1 - centreDistance(face.box, box)
      : 0;
  }
  if (face.point && contains(box, face.point)) {
    return (
      1 - Math.hypot(face.point.x - centreOf(box).x, face.point.y - centreOf(box).y) / Math.hypot(box.width, box.height)
    );
  }
  return 0;
}

/** Intersection over union of two boxes. */
export function iou(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (a.width * a.height + b.width * b.height - inter);
}

function centreOf(box: Box): Point {
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

function contains(box: Box, point: Point): boolean {
  return point.x >= box.x && point.x <= box.x + box.width && point.y >= box.y && point.y <= box.y + box.height;
}

/** Distance between centres relative to the larger box's diagonal, capped below 1. */
function centreDistance(a: Box, b: Box): number {
  const d = Math.hypot(centreOf(a).x - centreOf(b).x, centreOf(a).y - centreOf(b).y);
  return Math.min(0.99, d / Math.max(Math.hypot(a.width, a.height), Math.hypot(b.width, b.height)));
}

/** The truth-vs-prediction tally of a set of photos. */
export interface TruthTable {
  classes: string[];
  /** counts[truth][predicted] over matched faces, in `classes` order. */
  counts: number[][];
  /** Truth faces no detection matched, per true class. */
  missed: number[];
  /** Detections that matched no truth face, per predicted class (a class the model has). */
  extra: number[];
  /** Matched faces whose class is right, over matched faces (NaN with none). */
  accuracy: number;
  truthFaces: number;
  matched: number;
}

/** Adds one photo's matching to a truth table (created by {@link emptyTruthTable}). */
export function tallyMatches(
  table: TruthTable,
  truth: readonly TruthFace[],
  detections: readonly PredictedFace[],
  matching: FaceMatching,
): void {
  const index = (label: string) => table.classes.indexOf(label);
  truth.forEach((face, t) => {
    const t0 = index(face.label);
    const d = matching.matches[t] ?? -1;
    table.truthFaces++;
    if (d < 0) {
      table.missed[t0] = (table.missed[t0] ?? 0) + 1;
      return;
    }
    const p = index(detections[d]?.label ?? '');
    const row = table.counts[t0];
    if (row) row[p] = (row[p] ?? 0) + 1;
    table.matched++;
  });
  for (const d of matching.extra) {
    const p = index(detections[d]?.label ?? '');
    table.extra[p] = (table.extra[p] ?? 0) + 1;
  }
  const correct = table.classes.reduce((sum, _, k) => sum + (table.counts[k]?.[k] ?? 0), 0);
  table.accuracy = table.matched === 0 ? NaN : correct / table.matched;
}

/** A table with no faces yet. */
export function emptyTruthTable(classes: readonly string[]): TruthTable {
  const zeros = () => classes.map(() => 0);
  return {
    classes: [...classes],
    counts: classes.map(zeros),
    missed: zeros(),
    extra: zeros(),
    accuracy: NaN,
    truthFaces: 0,
    matched: 0,
  };
}
