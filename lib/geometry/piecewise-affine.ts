// Piecewise-affine warp: every destination triangle is filled from its source triangle through
// the affine map between the two, sampled bilinearly. Plain loops over typed arrays rather than
// canvas: the result is exactly the same on every machine (no SIMD or anti-aliasing differences),
// and it is fast: each row of a triangle is one span whose source position moves by a constant step.

import type { Point } from '../faces/types';
import type { RgbImage } from '../util/image';
import type { Triangle } from './triangulate';

/** A float RGB image, values in 0-255, row-major interleaved. */
export interface FloatImage {
  data: Float32Array;
  width: number;
  height: number;
}

/** Mirror a continuous index into [0, n - 1] (a rotated frame can reach past the photo's edge). */
function mirror(f: number, n: number): number {
  if (f < 0) f = -f;
  if (f > n - 1) f = Math.max(0, 2 * (n - 1) - f);
  return f;
}

// Where slope * dx + at0 >= 0 holds, as dx >= lowerBound and dx <= upperBound.
function lowerBound(slope: number, at0: number): number {
  if (slope > 1e-12) return -at0 / slope;
  return Math.abs(slope) <= 1e-12 && at0 < -1e-9 ? Infinity : -Infinity;
}
function upperBound(slope: number, at0: number): number {
  if (slope < -1e-12) return -at0 / slope;
  return Math.abs(slope) <= 1e-12 && at0 < -1e-9 ? -Infinity : Infinity;
}

/**
 * Warp `src` into a new width x height image: pixel centres inside destination triangle k show the
 * source at the matching point of source triangle k. The triangles must cover the output (the rig
 * puts points on its border); an edge shared by two triangles is drawn by both, so no gaps.
 * `src` may hold bytes (a photo) or floats (lib/model/decoders/texture-coords.ts warps coordinates).
 */
export function piecewiseWarp(src: RgbImage | FloatImage, srcPts: readonly Point[], dstPts: readonly Point[], triangles: readonly Triangle[], width: number, height: number, into?: Float32Array): FloatImage {
  const out = into && into.length === width * height * 3 ? into : new Float32Array(width * height * 3);
  const w = src.width, h = src.height, d = src.data;
  for (const [i, j, k] of triangles) {
    const [x0, y0] = dstPts[i], [x1, y1] = dstPts[j], [x2, y2] = dstPts[k];
    const det = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0);
    if (Math.abs(det) < 1e-9) continue; // no area, no pixels
    // Barycentric weights b1, b2 of a point, as affine functions of its offset from vertex 0.
    const inv = 1 / det;
    const bx1 = (y2 - y0) * inv, by1 = -(x2 - x0) * inv;
    const bx2 = -(y1 - y0) * inv, by2 = (x1 - x0) * inv;
    const s0 = srcPts[i], s1 = srcPts[j], s2 = srcPts[k];
    // Source index position (pixel centres at integers) as an affine function of the output pixel.
    const ux = s1[0] - s0[0], uy = s1[1] - s0[1], vx = s2[0] - s0[0], vy = s2[1] - s0[1];
    const sxdx = bx1 * ux + bx2 * vx, sydx = bx1 * uy + bx2 * vy;
    const sxdy = by1 * ux + by2 * vx, sydy = by1 * uy + by2 * vy;
    // Far enough inside the photo that no sample needs mirroring (with a pixel to spare for rounding).
    const minX = Math.min(s0[0], s1[0], s2[0]), maxX = Math.max(s0[0], s1[0], s2[0]);
    const minY = Math.min(s0[1], s1[1], s2[1]), maxY = Math.max(s0[1], s1[1], s2[1]);
    const fast = minX >= 1.5 && maxX <= w - 2.5 && minY >= 1.5 && maxY <= h - 2.5;
    const yStart = Math.max(0, Math.floor(Math.min(y0, y1, y2) - 0.5));
    const yEnd = Math.min(height - 1, Math.ceil(Math.max(y0, y1, y2) - 0.5));
    for (let py = yStart; py <= yEnd; py++) {
      const dy = py + 0.5 - y0;
      // The span of x where b1 >= 0, b2 >= 0 and b1 + b2 <= 1 (each linear in x).
      const lo = Math.max(lowerBound(bx1, by1 * dy), lowerBound(bx2, by2 * dy), lowerBound(-(bx1 + bx2), 1 - (by1 + by2) * dy));
      const hi = Math.min(upperBound(bx1, by1 * dy), upperBound(bx2, by2 * dy), upperBound(-(bx1 + bx2), 1 - (by1 + by2) * dy));
      const pxStart = Math.max(0, Math.ceil(x0 + lo - 0.5 - 1e-7));
      const pxEnd = Math.min(width - 1, Math.floor(x0 + hi - 0.5 + 1e-7));
      if (pxStart > pxEnd) continue;
      const dx = pxStart + 0.5 - x0;
      let sx = s0[0] + sxdx * dx + sxdy * dy - 0.5;
      let sy = s0[1] + sydx * dx + sydy * dy - 0.5;
      let o = (py * width + pxStart) * 3;
      for (let px = pxStart; px <= pxEnd; px++, sx += sxdx, sy += sydx, o += 3) {
        let fx = sx, fy = sy;
        if (!fast) {
          fx = mirror(fx, w);
          fy = mirror(fy, h);
        }
        const xa = Math.floor(fx), ya = Math.floor(fy);
        const xb = xa + 1 < w ? xa + 1 : xa, yb = ya + 1 < h ? ya + 1 : ya;
        const ax = fx - xa, ay = fy - ya;
        const i00 = (ya * w + xa) * 3, i01 = (ya * w + xb) * 3, i10 = (yb * w + xa) * 3, i11 = (yb * w + xb) * 3;
        const w00 = (1 - ax) * (1 - ay), w01 = ax * (1 - ay), w10 = (1 - ax) * ay, w11 = ax * ay;
        out[o] = d[i00] * w00 + d[i01] * w01 + d[i10] * w10 + d[i11] * w11;
        out[o + 1] = d[i00 + 1] * w00 + d[i01 + 1] * w01 + d[i10 + 1] * w10 + d[i11 + 1] * w11;
        out[o + 2] = d[i00 + 2] * w00 + d[i01 + 2] * w01 + d[i10 + 2] * w10 + d[i11 + 2] * w11;
      }
    }
  }
  return { data: out, width, height };
}
