import type { Box, Point } from '../image/rgb-image.js';

/**
 * The 68-point face landmarks of iBUG 300-W (the order dlib and face-api use), 0-based, with names for the points the
 * mask outlines are built from. Left and right are as seen in the image: the subject's right side is image left.
 */
export const LANDMARKS = {
  /** Jaw contour start, level with the eyes at the image-left ear; the contour runs 0..16 round the chin. */
  earLeft: 0,
  /** Upper cheek on the jaw contour, below the image-left ear. */
  jawLeftUpper: 1,
  /** Jaw contour about level with the nose tip (the ResNet report's improper point 3, 1-based). */
  jawLeftNose: 2,
  /** Jaw contour about level with the mouth (the report's proper point 3, 0-based). */
  jawLeftMouth: 3,
  /** Jaw contour about level with the lower lip. */
  jawLeftLip: 4,
  /** Jaw contour between the lower lip and the chin. */
  jawLeftLow: 5,
  /** Chin point, the lowest point of the face (the report's improper point 9, 1-based). */
  chin: 8,
  jawRightLow: 11,
  jawRightLip: 12,
  jawRightMouth: 13,
  /** Mirror of jawLeftNose (the report's improper point 15, 1-based; its proper point 14 read 0-based). */
  jawRightNose: 14,
  jawRightUpper: 15,
  earRight: 16,
  /** Top of the nose bridge, between the eyes (the report's proper point 27). */
  noseBridgeTop: 27,
  noseBridgeMid: 28,
  noseBridgeLow: 29,
  /** Tip of the nose (the report's proper point 30). */
  noseTip: 30,
  /** Outer edge of the image-left nostril (nose wing). */
  nostrilLeft: 31,
  /** Bottom of the nose between the nostrils (subnasale). */
  noseBottom: 33,
  nostrilRight: 35,
  eyeLeftOuter: 36,
  eyeLeftInner: 39,
  eyeLeftLowerInner: 40,
  eyeLeftLowerOuter: 41,
  eyeRightInner: 42,
  eyeRightOuter: 45,
  eyeRightLowerOuter: 46,
  eyeRightLowerInner: 47,
  /** Image-left corner of the mouth. */
  mouthLeft: 48,
  /** Top of the upper lip, centre (the report's improper point 52, 1-based). */
  upperLipTop: 51,
  mouthRight: 54,
  /** Bottom of the lower lip, centre (the report's proper point 57 and improper point 58, 1-based). */
  lowerLipBottom: 57,
} as const;

export type LandmarkName = keyof typeof LANDMARKS;

/** Lowest plausible height of the lower lip above the chin, in face units (chin to nose bridge = 1). */
const MIN_LIP_HEIGHT = 0.12;

/** Number of points in the scheme. */
export const LANDMARK_COUNT = 68;

/** One face: where it is, how it was found, and its 68 landmarks in image pixels. */
export interface Face {
  box: Box;
  /** Detector confidence; 0 for a whole-image fallback. */
  score: number;
  /** `detector`: SSD MobileNet found it; `whole-image`: landmarks on the whole (tightly cropped) image. */
  method: 'detector' | 'whole-image';
  landmarks: Point[];
}

/**
 * A face-aligned coordinate frame: `up` points from the chin to the top of the nose bridge, `right` towards the
 * image-right ear, and lengths are in units of the chin–bridge distance, so outlines follow a tilted head.
 */
export interface FaceFrame {
  origin: Point;
  up: Point;
  right: Point;
  scale: number;
}

/** The named landmark of a face. */
export function landmarkOf(points: readonly Point[], name: LandmarkName): Point {
  const point = points[LANDMARKS[name]];
  if (!point) throw new Error(`face has ${points.length} landmarks, not ${LANDMARK_COUNT}`);
  return point;
}

/** The frame of a face, anchored at its chin. */
export function faceFrameOf(points: readonly Point[]): FaceFrame {
  const chin = landmarkOf(points, 'chin');
  const top = landmarkOf(points, 'noseBridgeTop');
  const scale = Math.max(1e-6, Math.hypot(top.x - chin.x, top.y - chin.y));
  const up = { x: (top.x - chin.x) / scale, y: (top.y - chin.y) / scale };
  return { origin: chin, up, right: { x: -up.y, y: up.x }, scale };
}

/** Height of `p` above the chin along the face's up axis, in face units. */
export function heightOf(frame: FaceFrame, p: Point): number {
  return ((p.x - frame.origin.x) * frame.up.x + (p.y - frame.origin.y) * frame.up.y) / frame.scale;
}

/** Offset of `p` from the chin towards the image-right ear, in face units. */
export function acrossOf(frame: FaceFrame, p: Point): number {
  return ((p.x - frame.origin.x) * frame.right.x + (p.y - frame.origin.y) * frame.right.y) / frame.scale;
}

/** The image point at (`across`, `height`) in face units. */
export function pointAt(frame: FaceFrame, across: number, height: number): Point {
  const { origin, up, right, scale } = frame;
  return {
    x: origin.x + (right.x * across + up.x * height) * scale,
    y: origin.y + (right.y * across + up.y * height) * scale,
  };
}

/** `p` moved by (`across`, `height`) face units. */
export function shiftBy(frame: FaceFrame, p: Point, across: number, height: number): Point {
  return pointAt(frame, acrossOf(frame, p) + across, heightOf(frame, p) + height);
}

/**
 * Why 68 points do not look like a face, or undefined when they do: the landmark net returns 68 points for any input,
 * so a whole-image fallback (and a doubtful detection) must pass these shape checks. The bounds hold for every face
 * crop of the development set we measured, and reject noise, flat colour and background patches.
 */
export function checkLandmarks(points: readonly Point[], box: Box, wholeImage: boolean): string | undefined {
  const frame = faceFrameOf(points);
  const at = (name: LandmarkName) => landmarkOf(points, name);
  const heights = (['noseBridgeTop', 'noseTip', 'upperLipTop', 'lowerLipBottom'] as const).map((n) =>
    heightOf(frame, at(n)),
  );
  if (!heights.every((h, i) => h > 0 && (i === 0 || h < (heights[i - 1] ?? 0)))) {
    return 'landmarks out of order';
  }
  // Lower lip to chin is 0.15–0.48 of chin to nose bridge on every face we measured; less is a misplaced chin.
  if ((heights[3] ?? 0) < MIN_LIP_HEIGHT) return 'chin landmarks misplaced';
  const jawWidth = (acrossOf(frame, at('earRight')) - acrossOf(frame, at('earLeft'))) * frame.scale;
  const eyeDistance = Math.hypot(
    at('eyeRightOuter').x - at('eyeLeftOuter').x,
    at('eyeRightOuter').y - at('eyeLeftOuter').y,
  );
  const ratioEyes = eyeDistance / jawWidth;
  const ratioHeight = frame.scale / jawWidth;
  if (!(jawWidth > 0 && ratioEyes > 0.4 && ratioEyes < 0.8 && ratioHeight > 0.4 && ratioHeight < 1.1)) {
    return 'landmarks not face-shaped';
  }
  if (wholeImage && jawWidth < 0.6 * box.width) return 'not a tight face crop';
  return undefined;
}
