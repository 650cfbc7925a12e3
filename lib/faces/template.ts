// The canonical face every face is aligned to, and where it sits in an aligned crop.
//
// template.json is the mean of 502 real faces (LFW, generalised Procrustes analysis; see
// scripts/derive-template.ts): 68 points spanning a unit square, eyes level.

import { fitSimilarity } from './align';
import templateJson from './template.json';
import type { Matrix, Point } from './types';

export const TEMPLATE: readonly Point[] = templateJson.points as Point[];

/** Landmarks used to fit the alignment: brows, nose, eyes and mouth (17-67). The jaw line is
 * left out because its outline slides across the face as the head turns. */
export const ALIGN_POINTS: readonly number[] = Array.from({ length: 51 }, (_, i) => 17 + i);
const EYE_POINTS = Array.from({ length: 12 }, (_, i) => 36 + i);
/** The eyes count four times: they matter most to the eye (and to the recognition net). */
const FIT_POINTS = [...ALIGN_POINTS, ...EYE_POINTS, ...EYE_POINTS, ...EYE_POINTS];

export interface CropGeometry {
  /** Side of the square crop in pixels. */
  size: number;
  /** Border around the template's 68 points, as a fraction of the crop side on each edge. */
  margin: number;
}

export const DEFAULT_CROP: CropGeometry = { size: 256, margin: 0.2 };

/** The template's 68 points in crop pixels. */
export function templateInCrop({ size, margin }: CropGeometry): Point[] {
  return TEMPLATE.map(([x, y]) => [(margin + x * (1 - 2 * margin)) * size, (margin + y * (1 - 2 * margin)) * size]);
}

const mean = (pts: Point[]): Point => [pts.reduce((s, p) => s + p[0], 0) / pts.length, pts.reduce((s, p) => s + p[1], 0) / pts.length];

/** Centres of the left (36-41) and right (42-47) eye of a 68-point set. */
export function eyeCentres(landmarks: readonly Point[]): [Point, Point] {
  return [mean(landmarks.slice(36, 42)), mean(landmarks.slice(42, 48))];
}

/**
 * Photo -> aligned crop. Rotation: the eye line is made level. Scale and shift: least squares over
 * FIT_POINTS onto the template. (A free least-squares rotation over all points leaves the eyes of
 * turned heads tilted by 3-5 degrees, because in 2D their eye line and mouth line are not parallel;
 * measured on face-api's demo photos.)
 */
export function alignmentMatrix(landmarks: readonly Point[], geometry: CropGeometry): Matrix {
  const target = templateInCrop(geometry);
  const [l, r] = eyeCentres(landmarks);
  const rotation = -Math.atan2(r[1] - l[1], r[0] - l[0]);
  return fitSimilarity(FIT_POINTS.map((i) => landmarks[i]), FIT_POINTS.map((i) => target[i]), { rotation });
}
