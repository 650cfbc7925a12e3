// sRGB <-> CIE L*a*b* (D65), on interleaved RGB in [0, 1]. Colour matching works here because
// Lab separates lightness from colour and its distances follow what the eye sees, so matching
// statistics per channel changes skin tone without the hue shifts per-channel RGB matching makes.

const WHITE = [0.95047, 1, 1.08883];
const EPS = 216 / 24389;
const KAPPA = 24389 / 27;

const toLinear = (c: number) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
const toGamma = (c: number) => (c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055);
const f = (t: number) => (t > EPS ? Math.cbrt(t) : (KAPPA * t + 16) / 116);
const fInv = (t: number) => (t ** 3 > EPS ? t ** 3 : (116 * t - 16) / KAPPA);

/** Interleaved RGB in [0, 1] -> interleaved L (0-100), a, b. */
export function rgbToLab(rgb: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rgb.length);
  for (let i = 0; i < rgb.length; i += 3) {
    const r = toLinear(rgb[i]), g = toLinear(rgb[i + 1]), b = toLinear(rgb[i + 2]);
    const x = f((0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / WHITE[0]);
    const y = f(0.2126729 * r + 0.7151522 * g + 0.072175 * b);
    const z = f((0.0193339 * r + 0.119192 * g + 0.9503041 * b) / WHITE[2]);
    out[i] = 116 * y - 16;
    out[i + 1] = 500 * (x - y);
    out[i + 2] = 200 * (y - z);
  }
  return out;
}

/** Interleaved Lab -> RGB in [0, 1] (out-of-gamut colours clipped). */
export function labToRgb(lab: ArrayLike<number>): Float32Array {
  const out = new Float32Array(lab.length);
  const clip = (v: number) => Math.min(1, Math.max(0, v));
  for (let i = 0; i < lab.length; i += 3) {
    const fy = (lab[i] + 16) / 116;
    const x = fInv(fy + lab[i + 1] / 500) * WHITE[0];
    const y = fInv(fy);
    const z = fInv(fy - lab[i + 2] / 200) * WHITE[2];
    out[i] = clip(toGamma(3.2404542 * x - 1.5371385 * y - 0.4985314 * z));
    out[i + 1] = clip(toGamma(-0.969266 * x + 1.8760108 * y + 0.041556 * z));
    out[i + 2] = clip(toGamma(0.0556434 * x - 0.2040259 * y + 1.0572252 * z));
  }
  return out;
}
