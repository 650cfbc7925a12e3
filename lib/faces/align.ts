// Alignment: the similarity transform (rotation, uniform scale, translation) that best maps a
// face's landmarks onto a canonical template, and helpers to apply and invert 2x3 matrices.
//
// The least-squares similarity is Umeyama's method (1991) restricted to proper rotations. In 2D
// it has a closed form: with centred points p (source) and q (target),
//   a = sum(p . q) / sum(|p|^2),  b = sum(p x q) / sum(|p|^2)
// give scale*cos = a and scale*sin = b, and the translation follows from the centroids.
// Optionally the rotation is given (faces: the eye line) and only scale and shift are fitted.

import type { Matrix, Point } from './types';

export function fitSimilarity(src: readonly Point[], dst: readonly Point[], options: { rotation?: number } = {}): Matrix {
  if (src.length !== dst.length || src.length < 2) throw new Error(`fitSimilarity needs two equal lists of 2+ points, got ${src.length} and ${dst.length}`);
  const n = src.length;
  let sx = 0, sy = 0, dx = 0, dy = 0;
  for (let i = 0; i < n; i++) {
    sx += src[i][0]; sy += src[i][1]; dx += dst[i][0]; dy += dst[i][1];
  }
  sx /= n; sy /= n; dx /= n; dy /= n;
  let dot = 0, cross = 0, norm = 0;
  for (let i = 0; i < n; i++) {
    const px = src[i][0] - sx, py = src[i][1] - sy;
    const qx = dst[i][0] - dx, qy = dst[i][1] - dy;
    dot += px * qx + py * qy;
    cross += px * qy - py * qx;
    norm += px * px + py * py;
  }
  if (norm === 0) throw new Error('fitSimilarity: all source points coincide');
  let a = dot / norm, b = cross / norm;
  if (options.rotation !== undefined) {
    // Rotation fixed by the caller: only scale and translation are fitted. The best scale is the
    // projection of the free solution (a, b) onto the direction (cos, sin).
    const c = Math.cos(options.rotation), s = Math.sin(options.rotation);
    const scale = a * c + b * s;
    a = scale * c;
    b = scale * s;
  }
  return [
    [a, -b, dx - (a * sx - b * sy)],
    [b, a, dy - (b * sx + a * sy)],
  ];
}

export function applyMatrix(m: Matrix, p: Point): Point {
  return [m[0][0] * p[0] + m[0][1] * p[1] + m[0][2], m[1][0] * p[0] + m[1][1] * p[1] + m[1][2]];
}

export function applyMatrixAll(m: Matrix, points: readonly Point[]): Point[] {
  return points.map((p) => applyMatrix(m, p));
}

export function invertMatrix(m: Matrix): Matrix {
  const [[a, b, c], [d, e, f]] = m;
  const det = a * e - b * d;
  if (Math.abs(det) < 1e-12) throw new Error('invertMatrix: matrix is singular');
  return [
    [e / det, -b / det, (b * f - c * e) / det],
    [-d / det, a / det, (c * d - a * f) / det],
  ];
}

/** m2 after m1: the matrix of p -> m2(m1(p)). */
export function composeMatrix(m2: Matrix, m1: Matrix): Matrix {
  const [[a, b, c], [d, e, f]] = m1;
  const [[A, B, C], [D, E, F]] = m2;
  return [
    [A * a + B * d, A * b + B * e, A * c + B * f + C],
    [D * a + E * d, D * b + E * e, D * c + E * f + F],
  ];
}

/** Rotation in degrees and uniform scale of a similarity matrix. */
export function matrixRotationScale(m: Matrix): { degrees: number; scale: number } {
  return { degrees: (Math.atan2(m[1][0], m[0][0]) * 180) / Math.PI, scale: Math.hypot(m[0][0], m[1][0]) };
}
