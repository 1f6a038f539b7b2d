import {
  acrossOf,
  faceFrameOf,
  heightOf,
  LANDMARKS,
  landmarkOf,
  pointAt,
  shiftBy,
  type FaceFrame,
  type LandmarkName,
} from '../faces/landmarks.js';
import type { Point } from '../image/rgb-image.js';

/** How a mask sits on the face: worn properly, or pulled down so the nose, the mouth or the chin shows. */
export const MASK_VARIANTS = ['proper', 'improper-nose', 'improper-chin', 'improper-mouth'] as const;
export type MaskVariant = (typeof MASK_VARIANTS)[number];

/** A mask outline in image pixels: `outline` is closed, `top` and `bottom` are its two long edges. */
export interface MaskOutline {
  /** Bottom edge left→right, then top edge right→left. */
  outline: Point[];
  top: Point[];
  bottom: Point[];
  /** Where the ear loops start (mask corners) and end (ears); none on the far side of a turned face. */
  loops: [from: Point, to: Point][];
  /** Centre of the top edge, where an N95 peaks and a surgical mask's nose wire sits. */
  peak: Point;
  frame: FaceFrame;
}

/** How far the mask reaches past the jaw line, in face units (chin-to-nose-bridge = 1). */
const OVERHANG = 0.06;
/** Clearance kept between an uncovered feature and the mask edge, in face units. */
const CLEARANCE = 0.07;

/**
 * The outline of a mask on a face given its 68 landmarks. Every variant is built from named landmarks in a
 * face-aligned frame, so it follows a tilted head:
 * - `proper`: from the nose bridge under the eyes, over nose and mouth, to under the chin, jaw to jaw;
 * - `improper-nose`: the top edge runs below the nostrils, the rest as proper;
 * - `improper-chin`: as proper, but the bottom edge runs between the lower lip and the chin;
 * - `improper-mouth`: only the chin is covered, the top edge below the lower lip and the mouth corners.
 */
export function outlineMask(variant: MaskVariant, landmarks: readonly Point[]): MaskOutline {
  const frame = faceFrameOf(landmarks);
  const at = (name: LandmarkName) => landmarkOf(landmarks, name);
  const jaw = (from: LandmarkName, to: LandmarkName) =>
    range(LANDMARKS[from], LANDMARKS[to]).map((i) => pushOut(frame, landmarks, i));
  let bottom: Point[];
  let top: Point[];
  switch (variant) {
    case 'proper':
      bottom = jaw('jawLeftUpper', 'jawRightUpper');
      top = topOverNose(frame, at, bottom);
      break;
    case 'improper-nose':
      bottom = jaw('jawLeftNose', 'jawRightNose');
      top = topBelowNose(frame, at, bottom);
      break;
    case 'improper-chin': {
      const full = jaw('jawLeftUpper', 'jawRightUpper');
      bottom = bottomAboveChin(frame, at, full);
      top = topOverNose(frame, at, full);
      break;
    }
    case 'improper-mouth':
      bottom = jaw('jawLeftLip', 'jawRightLip');
      top = topBelowMouth(frame, at, bottom);
      break;
  }
  const first = bottom[0] as Point;
  const last = bottom.at(-1) as Point;
  // On a face turned to one side, that side's loop runs behind the head: leave it out rather than across the nose.
  const toLeft = acrossOf(frame, at('noseTip')) - acrossOf(frame, at('earLeft'));
  const toRight = acrossOf(frame, at('earRight')) - acrossOf(frame, at('noseTip'));
  const loops: [Point, Point][] = [];
  if (toLeft >= 0.6 * toRight) loops.push([top.at(-1) ?? first, shiftBy(frame, at('earLeft'), -0.02, 0)]);
  if (toRight >= 0.6 * toLeft) loops.push([top[0] ?? last, shiftBy(frame, at('earRight'), 0.02, 0)]);
  const peak = top[Math.floor(top.length / 2)] as Point;
  return { outline: [...bottom, ...top], top, bottom, loops, peak, frame };
}

/** Jaw point `index` pushed away from the nose tip by {@link OVERHANG}, so the mask overlaps the face edge. */
function pushOut(frame: FaceFrame, landmarks: readonly Point[], index: number): Point {
  const point = landmarks[index] as Point;
  const centre = landmarkOf(landmarks, 'noseTip');
  const length = Math.hypot(point.x - centre.x, point.y - centre.y) || 1;
  const reach = OVERHANG * frame.scale;
  return { x: point.x + ((point.x - centre.x) / length) * reach, y: point.y + ((point.y - centre.y) / length) * reach };
}

type At = (name: LandmarkName) => Point;

/** Top edge right→left: jaw, under the right eye, across the nose bridge, under the left eye, jaw. */
function topOverNose(frame: FaceFrame, at: At, jaw: Point[]): Point[] {
  const underEye = (a: LandmarkName, b: LandmarkName) => shiftBy(frame, midpoint(at(a), at(b)), 0, -0.1);
  const bridge = lerp(at('noseBridgeMid'), at('noseBridgeLow'), 0.3);
  return [
    jaw.at(-1) as Point,
    underEye('eyeRightLowerInner', 'eyeRightLowerOuter'),
    bridge,
    underEye('eyeLeftLowerInner', 'eyeLeftLowerOuter'),
    jaw[0] as Point,
  ];
}

/**
 * Top edge right→left between the nose and the upper lip: under the nostrils and the nose bottom, over the mouth
 * corners (which sit higher than the lip line on a smiling face).
 */
function topBelowNose(frame: FaceFrame, at: At, jaw: Point[]): Point[] {
  const nose = Math.min(...(['nostrilLeft', 'noseBottom', 'nostrilRight'] as const).map((n) => heightOf(frame, at(n))));
  const lip = heightOf(frame, at('upperLipTop'));
  const height = nose - Math.max(0.01, 0.45 * (nose - lip));
  const across = (name: LandmarkName) => acrossOf(frame, at(name));
  const corner = (name: 'mouthLeft' | 'mouthRight', nostril: LandmarkName, side: number) =>
    pointAt(
      frame,
      side * Math.max(side * across(name) + 0.03, side * across(nostril) + 0.08),
      Math.max(height, heightOf(frame, at(name)) + CLEARANCE),
    );
  return [
    jaw.at(-1) as Point,
    corner('mouthRight', 'nostrilRight', 1),
    pointAt(frame, across('nostrilRight') + 0.05, height),
    pointAt(frame, across('noseBottom'), height - 0.01),
    pointAt(frame, across('nostrilLeft') - 0.05, height),
    corner('mouthLeft', 'nostrilLeft', -1),
    jaw[0] as Point,
  ];
}

/** Top edge right→left below the mouth corners and the lower lip. */
function topBelowMouth(frame: FaceFrame, at: At, jaw: Point[]): Point[] {
  const mouth = Math.min(
    ...(['mouthLeft', 'lowerLipBottom', 'mouthRight'] as const).map((n) => heightOf(frame, at(n))),
  );
  const height = mouth - Math.min(CLEARANCE, 0.4 * mouth);
  return [
    jaw.at(-1) as Point,
    pointAt(frame, acrossOf(frame, at('mouthRight')), height),
    pointAt(frame, acrossOf(frame, at('lowerLipBottom')), height - 0.01),
    pointAt(frame, acrossOf(frame, at('mouthLeft')), height),
    jaw[0] as Point,
  ];
}

/**
 * Bottom edge left→right for a mask that leaves the chin out: down the jaw to lip level, then across between the
 * lower lip and the chin point, then up the other side.
 */
function bottomAboveChin(frame: FaceFrame, at: At, jaw: Point[]): Point[] {
  const lip = heightOf(frame, at('lowerLipBottom'));
  const height = 0.5 * lip;
  const sides = jaw.filter((p) => heightOf(frame, p) > height + 0.05);
  const left = sides.filter((p) => acrossOf(frame, p) < 0);
  const right = sides.filter((p) => acrossOf(frame, p) >= 0);
  return [
    ...left,
    pointAt(frame, acrossOf(frame, at('mouthLeft')) - 0.04, height + 0.03),
    pointAt(frame, acrossOf(frame, at('lowerLipBottom')), height),
    pointAt(frame, acrossOf(frame, at('mouthRight')) + 0.04, height + 0.03),
    ...right,
  ];
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function midpoint(a: Point, b: Point): Point {
  return lerp(a, b, 0.5);
}

function lerp(a: Point, b: Point, t: number): Point {
  return { x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t };
}
