// The inside of an opened mouth. The source faces have closed mouths, so the warp has nothing to
// show between the lips but a stretched slit: paint it instead, as a photo shows it: upper teeth
// under the upper lip, a dark mouth cavity with shadow towards the corners, the tongue low down.
// Colours are tinted by the face's own skin colour, so warm or cool light reaches the mouth too.

import type { Point } from '../faces/types';
import type { FloatImage } from '../geometry/piecewise-affine';

type Affine = [number, number, number, number, number, number];

export interface MouthShape {
  /** Inner lip points 60-67 in posed local units (before the camera), upright. */
  inner: readonly Point[];
  /** Output pixel -> posed local units: [a, b, c, d, e, f], u = a x + b y + c, v = d x + e y + f. */
  toLocal: Affine;
  /** Output pixels per local unit. */
  pxPerUnit: number;
  /** The 8 inner lip points in output pixels, for the bounding box. */
  innerOut: readonly Point[];
  /** Skin colour near the mouth (0-255 RGB), for tinting. */
  skin: readonly [number, number, number];
}

/** y of a polyline (points sorted by x) at x; the end values outside. */
function polyY(line: readonly Point[], x: number): number {
  if (x <= line[0][0]) return line[0][1];
  for (let i = 1; i < line.length; i++) {
    if (x <= line[i][0]) {
      const [x0, y0] = line[i - 1], [x1, y1] = line[i];
      return x1 === x0 ? y1 : y0 + ((x - x0) / (x1 - x0)) * (y1 - y0);
    }
  }
  return line[line.length - 1][1];
}

const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);
const smooth = (e0: number, e1: number, x: number) => {
  const t = clamp01((x - e0) / (e1 - e0));
  return t * t * (3 - 2 * t);
};

/** Paint the opened mouth into `img` (in place). Does nothing while the lips touch. */
export function paintMouth(img: FloatImage, m: MouthShape): void {
  const p = m.inner; // 60..67 as 0..7
  const upper = [p[0], p[1], p[2], p[3], p[4]].slice().sort((a, b) => a[0] - b[0]);
  const lower = [p[0], p[7], p[6], p[5], p[4]].slice().sort((a, b) => a[0] - b[0]);
  const left = Math.min(p[0][0], p[4][0]), right = Math.max(p[0][0], p[4][0]);
  const centre = (left + right) / 2, half = (right - left) / 2;
  const gapMax = Math.max(...[1, 2, 3].map((k) => polyY(lower, p[k][0]) - polyY(upper, p[k][0])));
  if (gapMax * m.pxPerUnit < 1.5 || half <= 0) return;

  // Tint: the skin colour normalised to its brightest channel, times a brightness that follows the skin's.
  const [sr, sg, sb] = m.skin;
  const smax = Math.max(sr, sg, sb, 1);
  const bright = Math.min(1.25, Math.max(0.45, smax / 190));
  const tint = [(sr / smax) * 0.35 + 0.65, (sg / smax) * 0.35 + 0.65, (sb / smax) * 0.35 + 0.65].map((t) => t * bright);
  const teethH = Math.min(0.1, 0.42 * gapMax);
  const [a, b, c, d, e, f] = m.toLocal;
  const xs = m.innerOut.map((q) => q[0]), ys = m.innerOut.map((q) => q[1]);
  const x0 = Math.max(0, Math.floor(Math.min(...xs)) - 1), x1 = Math.min(img.width - 1, Math.ceil(Math.max(...xs)) + 1);
  const y0 = Math.max(0, Math.floor(Math.min(...ys)) - 1), y1 = Math.min(img.height - 1, Math.ceil(Math.max(...ys)) + 1);
  const px = m.pxPerUnit;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const u = a * (x + 0.5) + b * (y + 0.5) + c;
      const v = d * (x + 0.5) + e * (y + 0.5) + f;
      if (u < left || u > right) continue;
      const yu = polyY(upper, u), yl = polyY(lower, u);
      // Coverage: a one-pixel soft edge against the lips.
      // Near the corners the lips meet: fade out there, leaving the lip texture.
      const cover = clamp01((v - yu) * px + 0.5) * clamp01((yl - v) * px + 0.5) * smooth(1, 0.82, Math.abs(u - (left + right) / 2) / ((right - left) / 2));
      if (cover <= 0) continue;
      const gap = Math.max(yl - yu, 1e-6);
      const t = (v - yu) / gap; // 0 at the upper lip, 1 at the lower
      const side = Math.abs(u - centre) / half; // 0 in the middle, 1 at a corner
      // Cavity: dark red-brown, darker towards the corners and just inside the lips.
      let r = 52, g = 20, bl = 22;
      const shade = (1 - 0.5 * side * side) * (0.55 + 0.45 * smooth(0, 0.3, t) * smooth(1, 0.75, t));
      r *= shade; g *= shade; bl *= shade;
      // Tongue: low in the mouth, in the middle.
      const tongue = smooth(0.55, 0.9, t) * smooth(0.85, 0.4, side) * smooth(0.12, 0.3, gap);
      r += (125 - r) * tongue; g += (55 - g) * tongue; bl += (58 - bl) * tongue;
      // Upper teeth: a band under the upper lip, tallest at the incisors, greyer towards the
      // corners, in the upper lip's shadow at the top, with faint gaps between the teeth.
      const height = teethH * (1 - 0.45 * side * side);
      const teeth = smooth(height + 0.012, height - 0.012, v - yu) * smooth(0.7, 0.35, side);
      if (teeth > 0) {
        const pos = Math.abs(u - centre) / 0.105;
        const gapLine = smooth(0.14, 0.02, Math.abs(pos - Math.round(pos)));
        const lit = (0.62 + 0.38 * (1 - side)) * (0.8 + 0.2 * smooth(0, height * 0.35, v - yu)) * (1 - 0.22 * gapLine);
        r += (212 * lit - r) * teeth; g += (204 * lit - g) * teeth; bl += (190 * lit - bl) * teeth;
      }
      const o = (y * img.width + x) * 3;
      img.data[o] += (r * tint[0] - img.data[o]) * cover;
      img.data[o + 1] += (g * tint[1] - img.data[o + 1]) * cover;
      img.data[o + 2] += (bl * tint[2] - img.data[o + 2]) * cover;
    }
  }
}
