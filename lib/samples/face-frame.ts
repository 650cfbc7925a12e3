// A face's own coordinate frame and the points the rig moves.
//
// Local coordinates: origin at the midpoint between the eye centres, x along the eye line (to the
// viewer's right), y down, one unit = the inter-ocular distance. Expressions and head turns are
// defined in these units, so they mean the same on any face.
//
// Control points: the 68 landmarks, 5 forehead points above the brows (the landmarks stop at the
// brows, and the forehead must follow a nod or a raised brow), and a ring around the head (hair,
// ears, neck) where the face's motion fades out into the still background.

import { eyeCentres } from '../faces/template';
import type { Point } from '../faces/types';

export interface FaceFrame {
  /** Eye midpoint in photo pixels. */
  origin: Point;
  /** Eye line angle in the photo, radians (clockwise on screen). */
  angle: number;
  /** Inter-ocular distance in photo pixels. */
  iod: number;
}

export function faceFrame(landmarks: readonly Point[]): FaceFrame {
  const [l, r] = eyeCentres(landmarks);
  return { origin: [(l[0] + r[0]) / 2, (l[1] + r[1]) / 2], angle: Math.atan2(r[1] - l[1], r[0] - l[0]), iod: Math.hypot(r[0] - l[0], r[1] - l[1]) };
}

export function toLocal(f: FaceFrame, p: Point): Point {
  const c = Math.cos(f.angle), s = Math.sin(f.angle);
  const dx = p[0] - f.origin[0], dy = p[1] - f.origin[1];
  return [(c * dx + s * dy) / f.iod, (-s * dx + c * dy) / f.iod];
}

export function toPhoto(f: FaceFrame, u: Point): Point {
  const c = Math.cos(f.angle), s = Math.sin(f.angle);
  return [f.origin[0] + f.iod * (c * u[0] - s * u[1]), f.origin[1] + f.iod * (s * u[0] + c * u[1])];
}

export const FOREHEAD = 5;
export const RING = 16;
/** Index of the first forehead point and of the first ring point among the control points. */
export const FOREHEAD_START = 68;
export const RING_START = FOREHEAD_START + FOREHEAD;

/** Ring around the head, in local units: an ellipse well outside the jaw and the forehead. */
const RING_CENTRE: Point = [0, 0.45];
const RING_RADII: Point = [1.95, 2.35];

/** Control points in local coordinates: landmarks, forehead, head ring. */
export function controlPoints(localLandmarks: readonly Point[]): Point[] {
  const lm = localLandmarks;
  const brows: Array<[number, number]> = [[17, 0.5], [19, 0.7], [21.5, 0.75], [24, 0.7], [26, 0.5]];
  const forehead = brows.map(([i, up]): Point => {
    const p = Number.isInteger(i) ? lm[i] : ([(lm[21][0] + lm[22][0]) / 2, (lm[21][1] + lm[22][1]) / 2] as Point);
    return [p[0], p[1] - up];
  });
  const ring = Array.from({ length: RING }, (_, k): Point => {
    const t = (2 * Math.PI * k) / RING;
    return [RING_CENTRE[0] + RING_RADII[0] * Math.cos(t), RING_CENTRE[1] + RING_RADII[1] * Math.sin(t)];
  });
  return [...lm.map((p): Point => [p[0], p[1]]), ...forehead, ...ring];
}

/**
 * Depth prior: how far each control point stands out of the face's side plane (the plane through
 * the cheek contour at the ears), in eye distances. Read off average adult head proportions: the
 * nose tip is about one eye distance in front of the ears, the eyes half of one. A head turn moves
 * each point sideways in proportion to its depth, so the nose moves more than the cheeks.
 */
// prettier-ignore
const LANDMARK_DEPTH = [
  // jaw 0-16: from the ears round to the chin
  0, 0.05, 0.12, 0.22, 0.35, 0.48, 0.58, 0.66, 0.7, 0.66, 0.58, 0.48, 0.35, 0.22, 0.12, 0.05, 0,
  // brows 17-26
  0.45, 0.6, 0.7, 0.75, 0.78, 0.78, 0.75, 0.7, 0.6, 0.45,
  // nose bridge 27-30, nostrils 31-35
  0.78, 0.88, 0.98, 1.1, 0.72, 0.82, 0.9, 0.82, 0.72,
  // eyes 36-47
  0.42, 0.56, 0.58, 0.55, 0.56, 0.54, 0.55, 0.58, 0.56, 0.42, 0.54, 0.56,
  // outer lips 48-59
  0.62, 0.78, 0.86, 0.9, 0.86, 0.78, 0.62, 0.74, 0.8, 0.84, 0.8, 0.74,
  // inner lips 60-67
  0.64, 0.8, 0.84, 0.8, 0.64, 0.78, 0.8, 0.78,
];

export function depthPrior(): number[] {
  return [...LANDMARK_DEPTH, 0.4, 0.62, 0.7, 0.62, 0.4, ...Array<number>(RING).fill(0)];
}
