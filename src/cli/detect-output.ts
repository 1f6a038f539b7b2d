import type { Box } from '../ml/image/rgb-image.js';
import { csvField } from '../util/csv.js';

/** One face in `detections.json` / `.csv`: box in the photo file's pixels, detector score, class, confidence. */
export interface FaceRecord {
  box: Box;
  score: number;
  label: string;
  confidence: number;
}

/** One photo's faces, and where its annotated copy is. */
export interface PhotoResult {
  image: string;
  annotated: string;
  /** Pixels of the annotated PNG per pixel of the photo file. */
  scale: number;
  faces: FaceRecord[];
}

/** `image,face,x,y,width,height,score,label,confidence`: one row per face. */
export function formatDetectionsCsv(photos: readonly PhotoResult[]): string {
  const rows = photos.flatMap((photo) =>
    photo.faces.map((face, k) =>
      [
        csvField(photo.image),
        k + 1,
        face.box.x,
        face.box.y,
        face.box.width,
        face.box.height,
        face.score.toFixed(4),
        face.label,
        face.confidence.toFixed(4),
      ].join(','),
    ),
  );
  return ['image,face,x,y,width,height,score,label,confidence', ...rows].join('\n') + '\n';
}

/** `3 faces: 2 with_mask, 1 without_mask`, or `no face found`. */
export function summarizeFaces(faces: readonly FaceRecord[]): string {
  if (faces.length === 0) return 'no face found';
  const counts = new Map<string, number>();
  for (const face of faces) counts.set(face.label, (counts.get(face.label) ?? 0) + 1);
  const parts = [...counts].map(([label, count]) => `${count} ${label}`);
  return `${faces.length} face${faces.length === 1 ? '' : 's'}: ${parts.join(', ')}`;
}
