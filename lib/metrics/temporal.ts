// How steady a swapped video is, in numbers:
// - landmark jitter: the frame-to-frame acceleration of the landmarks a swap was aligned on, in
//   eye distances per frame squared. A real head moves smoothly, so its acceleration is small;
//   detection noise is not. With the true landmarks (the built-in clip), only the part of the
//   acceleration the true motion does not have counts.
// - flicker: how much the mean colour of the face region changes from frame to frame, as a ratio to
//   a reference clip's (the ground truth, or the source): 1 means "as steady as the reference".
// - masked PSNR: ground-truth PSNR over the face region only.

import type { Point } from '../faces/types';
import { eyeCentres } from '../faces/template';

const iod = (l: readonly Point[]) => {
  const [a, b] = eyeCentres(l);
  return Math.hypot(b[0] - a[0], b[1] - a[1]) || 1;
};

/**
 * Landmark acceleration per frame: `landmarks[i]` is the face in frame i (null: not seen); frame t
 * gets the mean over the 68 points of |p[t+1] - 2 p[t] + p[t-1]| over the eye distance, or null
 * when a neighbour is missing. With `truth`, the true landmarks of the same frames, the true
 * acceleration is subtracted first.
 */
export function jitterSeries(landmarks: ReadonlyArray<readonly Point[] | null>, truth?: ReadonlyArray<readonly Point[] | null>): Array<number | null> {
  return landmarks.map((c, t) => {
    const p = landmarks[t - 1], q = landmarks[t + 1];
    if (!p || !c || !q) return null;
    const tr = truth ? [truth[t - 1], truth[t], truth[t + 1]] : null;
    if (tr && (!tr[0] || !tr[1] || !tr[2])) return null;
    let s = 0;
    for (let k = 0; k < c.length; k++) {
      let ax = q[k]![0] - 2 * c[k]![0] + p[k]![0];
      let ay = q[k]![1] - 2 * c[k]![1] + p[k]![1];
      if (tr) {
        ax -= tr[2]![k]![0] - 2 * tr[1]![k]![0] + tr[0]![k]![0];
        ay -= tr[2]![k]![1] - 2 * tr[1]![k]![1] + tr[0]![k]![1];
      }
      s += Math.hypot(ax, ay);
    }
    return s / c.length / iod(c);
  });
}

/** The mean of jitterSeries over the frames that have a value; NaN when none has. */
export function landmarkJitter(landmarks: ReadonlyArray<readonly Point[] | null>, truth?: ReadonlyArray<readonly Point[] | null>): number {
  return mean(jitterSeries(landmarks, truth).filter((x): x is number => x !== null));
}

/** Mean change of a colour from one frame to the next (RGB distance, 0-255 levels). Frames without the face (null) break the chain. */
export function colourChange(means: ReadonlyArray<readonly [number, number, number] | null>): number {
  let sum = 0, n = 0;
  for (let t = 1; t < means.length; t++) {
    const a = means[t - 1], b = means[t];
    if (!a || !b) continue;
    sum += Math.hypot(b[0] - a[0], b[1] - a[1], b[2] - a[2]);
    n++;
  }
  return n ? sum / n : NaN;
}

/** Mean colour of an RGB image where `mask` (one weight per pixel, 0-1) is on; null when the mask is empty. */
export function maskedMean(rgb: Uint8Array, mask: Float32Array): [number, number, number] | null {
  let r = 0, g = 0, b = 0, w = 0;
  for (let i = 0; i < mask.length; i++) {
    const m = mask[i]!;
    if (m <= 0) continue;
    r += m * rgb[3 * i]!;
    g += m * rgb[3 * i + 1]!;
    b += m * rgb[3 * i + 2]!;
    w += m;
  }
  return w > 0 ? [r / w, g / w, b / w] : null;
}

/** PSNR (dB, 8-bit) of two RGB images of one size over the pixels `mask` weighs. */
export function maskedPsnr(a: Uint8Array, b: Uint8Array, mask: Float32Array): number {
  let se = 0, w = 0;
  for (let i = 0; i < mask.length; i++) {
    const m = mask[i]!;
    if (m <= 0) continue;
    for (let c = 0; c < 3; c++) se += m * (a[3 * i + c]! - b[3 * i + c]!) ** 2;
    w += 3 * m;
  }
  if (w === 0) return NaN;
  const mse = se / w;
  return mse === 0 ? 100 : 10 * Math.log10((255 * 255) / mse);
}

export const mean = (xs: readonly number[]): number => {
  const ok = xs.filter(Number.isFinite);
  return ok.length ? ok.reduce((s, x) => s + x, 0) / ok.length : NaN;
};
