// Colour matching: make the decoded face take the colours of the face it replaces, so the swap
// has the photo's lighting and skin tone instead of the average of the training photos.
// Statistics are weighted by the blend mask: only the skin that will be pasted counts.
//
// - none
// - lab-meanstd: per Lab channel, shift and scale to the target's mean and standard deviation
//   (Reinhard et al. 2001, "Color transfer between images").
// - histogram: per Lab channel, map each value's quantile in the face to the same quantile in
//   the target (weighted histogram matching): also fixes contrast curves, not only mean and spread.

import { labToRgb, rgbToLab } from './cielab';

export const COLOUR_MATCHERS = ['none', 'lab-meanstd', 'histogram'] as const;
export type ColourMatcher = (typeof COLOUR_MATCHERS)[number];

export function isColourMatcher(s: string): s is ColourMatcher {
  return (COLOUR_MATCHERS as readonly string[]).includes(s);
}

/** Weighted mean and standard deviation of channel c of interleaved 3-channel data. */
function stats(data: Float32Array, weights: ArrayLike<number>, c: number): { mean: number; std: number } {
  let sw = 0, s = 0, ss = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i], v = data[i * 3 + c];
    sw += w; s += w * v; ss += w * v * v;
  }
  const mean = s / Math.max(sw, 1e-9);
  return { mean, std: Math.sqrt(Math.max(0, ss / Math.max(sw, 1e-9) - mean * mean)) };
}

function meanStd(face: Float32Array, target: Float32Array, weights: ArrayLike<number>): Float32Array {
  const out = new Float32Array(face.length);
  for (let c = 0; c < 3; c++) {
    const a = stats(face, weights, c), b = stats(target, weights, c);
    // A flat channel (std 0) only shifts: scaling it up would amplify noise from nothing.
    const k = a.std > 1e-6 ? b.std / a.std : 1;
    for (let i = c; i < face.length; i += 3) out[i] = (face[i] - a.mean) * k + b.mean;
  }
  return out;
}

const BINS = 256;

/** Weighted cumulative histogram of channel c over [lo, hi], normalised to end at 1. */
function cdf(data: Float32Array, weights: ArrayLike<number>, c: number, lo: number, hi: number): Float64Array {
  const h = new Float64Array(BINS);
  const scale = (BINS - 1) / Math.max(hi - lo, 1e-9);
  for (let i = 0; i < weights.length; i++) h[Math.round((data[i * 3 + c] - lo) * scale)] += weights[i];
  for (let i = 1; i < BINS; i++) h[i] += h[i - 1];
  const total = Math.max(h[BINS - 1], 1e-12);
  for (let i = 0; i < BINS; i++) h[i] /= total;
  return h;
}

function histogram(face: Float32Array, target: Float32Array, weights: ArrayLike<number>): Float32Array {
  const out = new Float32Array(face.length);
  for (let c = 0; c < 3; c++) {
    let lo = Infinity, hi = -Infinity;
    for (const d of [face, target]) for (let i = c; i < d.length; i += 3) (lo = Math.min(lo, d[i])), (hi = Math.max(hi, d[i]));
    const step = Math.max(hi - lo, 1e-9) / (BINS - 1);
    const src = cdf(face, weights, c, lo, hi), ref = cdf(target, weights, c, lo, hi);
    // Bin i holds values within half a step of lo + i step, so its CDF is reached at the bin's
    // upper edge. Per source bin edge: the value where the target's CDF reaches the same quantile.
    const lut = new Float32Array(BINS);
    let j = 0;
    for (let i = 0; i < BINS; i++) {
      while (j < BINS - 1 && ref[j] < src[i]) j++;
      const prev = j > 0 ? ref[j - 1] : 0;
      const t = ref[j] > prev ? (src[i] - prev) / (ref[j] - prev) : 1;
      lut[i] = Math.min(hi, Math.max(lo, lo + (j - 0.5 + Math.min(1, Math.max(0, t))) * step));
    }
    // Between bins, interpolate the table so smooth gradients stay smooth.
    for (let i = c; i < face.length; i += 3) {
      const x = (face[i] - lo) / step - 0.5, k = Math.min(BINS - 2, Math.max(0, Math.floor(x)));
      out[i] = lut[k] + (lut[k + 1] - lut[k]) * Math.min(1, Math.max(0, x - k));
    }
  }
  return out;
}

/**
 * `face` recoloured toward `target` (both interleaved RGB in [0, 1], same pixel count), with
 * per-pixel weights saying which pixels count (the mask). Returns new RGB in [0, 1].
 */
export function matchColour(matcher: ColourMatcher, face: Float32Array, target: Float32Array, weights: ArrayLike<number>): Float32Array {
  if (face.length !== target.length || face.length !== weights.length * 3) throw new Error('matchColour: face, target and weights must cover the same pixels');
  if (matcher === 'none') return Float32Array.from(face);
  const a = rgbToLab(face), b = rgbToLab(target);
  return labToRgb(matcher === 'lab-meanstd' ? meanStd(a, b, weights) : histogram(a, b, weights));
}
