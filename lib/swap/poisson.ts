// Seamless (Poisson) cloning, made fast. Poisson cloning (Pérez et al. 2003) keeps the face's
// gradients and takes the photo's values on the region's border. Its solution is the face plus a
// membrane: the harmonic function that equals (photo - face) on the border. That membrane is
// smooth, so it is solved on a coarse grid (at most COARSE cells a side, Gauss-Seidel with
// over-relaxation) and interpolated back: milliseconds per face instead of seconds.
// The result is then blended with the feathered mask like any face.

import type { Box } from '../faces/types';
import type { RgbImage } from '../util/image';

const COARSE = 64;
const ITERATIONS = 300;
const OMEGA = 1.9;

/** The face (box-sized RGB in [0, 1]) shifted by the membrane so it meets the photo at the mask's border. */
export function poissonFace(photo: RgbImage, box: Box, face: Float32Array, alpha: Float32Array): Float32Array {
  const { width: w, height: h } = box;
  const k = Math.max(1, Math.ceil(Math.max(w, h) / COARSE));
  const cw = Math.ceil(w / k), ch = Math.ceil(h / k);
  // Coarse cells holding any pixel outside the mask are fixed to the mean difference there.
  const fixedSum = new Float64Array(cw * ch * 3), fixedCount = new Float64Array(cw * ch);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (alpha[i] > 0) continue;
      const cell = Math.floor(y / k) * cw + Math.floor(x / k);
      const p = ((box.y + y) * photo.width + box.x + x) * 3;
      for (let c = 0; c < 3; c++) fixedSum[cell * 3 + c] += photo.data[p + c] / 255 - face[i * 3 + c];
      fixedCount[cell]++;
    }
  const m = new Float64Array(cw * ch * 3);
  let border = [0, 0, 0], n = 0;
  for (let cell = 0; cell < cw * ch; cell++) {
    if (!fixedCount[cell]) continue;
    for (let c = 0; c < 3; c++) m[cell * 3 + c] = fixedSum[cell * 3 + c] / fixedCount[cell];
    border = border.map((s, c) => s + m[cell * 3 + c]);
    n++;
  }
  if (n === 0) return Float32Array.from(face); // mask covers the whole box: nothing to meet
  // Start the unknown cells at the mean border difference: far fewer iterations to converge.
  for (let cell = 0; cell < cw * ch; cell++) if (!fixedCount[cell]) for (let c = 0; c < 3; c++) m[cell * 3 + c] = border[c] / n;
  for (let it = 0; it < ITERATIONS; it++)
    for (let y = 0; y < ch; y++)
      for (let x = 0; x < cw; x++) {
        const cell = y * cw + x;
        if (fixedCount[cell]) continue;
        // Box edges are free (Neumann): only the neighbours inside the grid count.
        const nb = [x > 0 ? cell - 1 : -1, x < cw - 1 ? cell + 1 : -1, y > 0 ? cell - cw : -1, y < ch - 1 ? cell + cw : -1].filter((j) => j >= 0);
        for (let c = 0; c < 3; c++) {
          let s = 0;
          for (const j of nb) s += m[j * 3 + c];
          m[cell * 3 + c] += OMEGA * (s / nb.length - m[cell * 3 + c]);
        }
      }
  // Bilinear interpolation of the coarse membrane at each pixel centre.
  const out = new Float32Array(face.length);
  for (let y = 0; y < h; y++) {
    const fy = Math.min(ch - 1, Math.max(0, (y + 0.5) / k - 0.5)), y0 = Math.floor(fy), y1 = Math.min(ch - 1, y0 + 1), ty = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = Math.min(cw - 1, Math.max(0, (x + 0.5) / k - 0.5)), x0 = Math.floor(fx), x1 = Math.min(cw - 1, x0 + 1), tx = fx - x0;
      const i = y * w + x;
      for (let c = 0; c < 3; c++) {
        const top = m[(y0 * cw + x0) * 3 + c] * (1 - tx) + m[(y0 * cw + x1) * 3 + c] * tx;
        const bottom = m[(y1 * cw + x0) * 3 + c] * (1 - tx) + m[(y1 * cw + x1) * 3 + c] * tx;
        out[i * 3 + c] = Math.min(1, Math.max(0, face[i * 3 + c] + top * (1 - ty) + bottom * ty));
      }
    }
  }
  return out;
}
