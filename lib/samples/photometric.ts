// The camera and the light: what changes in a photo of the same pose. Directional light shades a
// head-shaped ellipsoid (the lit side brighter, the far side darker, fading out into a weak
// gradient over the background); white balance and exposure scale the channels; then the lens
// (Gaussian blur), the sensor (noise) and the file (JPEG quality).

import sharp from 'sharp';
import type { RgbImage } from '../util/image';
import type { RigParams } from './params';
import type { FloatImage } from '../geometry/piecewise-affine';

export interface LightGeometry {
  /** Output pixel -> posed local face units (before the camera): [a, b, c, d, e, f]. */
  toLocal: readonly [number, number, number, number, number, number];
  /** The face ellipsoid's centre and radii in local units. */
  centre: readonly [number, number];
  radii: readonly [number, number];
}

/** Light elevation: 55 degrees off the camera axis, a typical key light. */
const ELEVATION = (55 * Math.PI) / 180;
/** The ellipsoid's shading fades into the background's gradient between these radii. */
const FADE_IN = 0.7, FADE_OUT = 1.45;

/**
 * Light, white balance and exposure, then rounding to 8 bits. The background's light is linear in
 * the pixel position, so only pixels near the face pay for the ellipsoid's shading.
 */
export function relight(img: FloatImage, p: RigParams, g: LightGeometry): Uint8ClampedArray {
  const k = p.lightStrength;
  const angle = ((p.lightAngle - p.roll) * Math.PI) / 180; // the angle is on screen; shading is in face units
  const lx = Math.sin(ELEVATION) * Math.sin(angle), ly = -Math.sin(ELEVATION) * Math.cos(angle), lz = Math.cos(ELEVATION);
  const [gr, gg, gb] = [1 + 0.1 * p.temperature, 1 + 0.01 * p.temperature, 1 - 0.13 * p.temperature].map((x) => x * p.exposure);
  const [a, b, c, d, e, f] = g.toLocal;
  const [cx, cy] = g.centre, [rx, ry] = g.radii;
  const { width, height, data } = img;
  const out = new Uint8ClampedArray(data.length);
  for (let y = 0; y < height; y++) {
    // Normalised ellipse coordinates at the row's first pixel centre, and their step per pixel.
    let nx = (a * 0.5 + b * (y + 0.5) + c - cx) / rx, ny = (d * 0.5 + e * (y + 0.5) + f - cy) / ry;
    const dnx = a / rx, dny = d / ry;
    // Background: a weak linear gradient towards the light.
    let bg = 1 + 0.15 * k * (nx * lx + ny * ly);
    const dbg = 0.15 * k * (dnx * lx + dny * ly);
    for (let x = 0, o = y * width * 3; x < width; x++, o += 3, nx += dnx, ny += dny, bg += dbg) {
      let light = bg;
      const r2 = nx * nx + ny * ny;
      if (k > 0 && r2 < FADE_OUT * FADE_OUT) {
        const r = Math.sqrt(r2);
        const t = Math.min(1, Math.max(0, (r - FADE_OUT) / (FADE_IN - FADE_OUT)));
        const inside = t * t * (3 - 2 * t);
        const nz = Math.sqrt(Math.max(0, 1 - Math.min(r2, 1)));
        // The normal (nx, ny, nz) has length 1 inside the ellipse and r outside it.
        const lambert = Math.max(0, nx * lx + ny * ly + nz * lz) / (r2 < 1 ? 1 : r);
        // Relative to a frontal light: the lit side up to about 1 + 0.25k, the far side down to 1 - 0.7k.
        const face = 1 + k * 1.2 * (lambert - lz) * (lambert > lz ? 0.6 : 1);
        light = inside * Math.max(0.1, face) + (1 - inside) * bg;
      }
      out[o] = data[o] * light * gr;
      out[o + 1] = data[o + 1] * light * gg;
      out[o + 2] = data[o + 2] * light * gb;
    }
  }
  return out;
}

/** 4096 standard normal values from a fixed seed: per-pixel noise by table lookup is 20x cheaper than drawing. */
const NORMALS = (() => {
  const t = new Float32Array(4096);
  let s = 0x9e3779b9;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  for (let i = 0; i < t.length; i++) t[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return t;
})();

/** Add Gaussian noise of `sigma` levels in place; xorshift32 from `seed` picks the table entries. */
function addNoise(px: Uint8ClampedArray, sigma: number, seed: number): void {
  let s = seed >>> 0 || 1;
  for (let i = 0; i < px.length; i += 2) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    px[i] += NORMALS[s & 4095] * sigma;
    if (i + 1 < px.length) px[i + 1] += NORMALS[(s >>> 16) & 4095] * sigma;
  }
}

/** 8-bit pixels -> blur, noise and the encoded file. `noiseSeed` makes the noise repeatable. */
export async function develop(pixels: Uint8ClampedArray, width: number, height: number, p: RigParams, noiseSeed: number): Promise<{ image: RgbImage; bytes: Buffer; format: 'jpeg' | 'png' }> {
  const raw = { raw: { width, height, channels: 3 as const } };
  let px = pixels;
  if (p.blur >= 0.3) {
    const out = await sharp(px, raw).blur(p.blur).raw().toBuffer();
    px = new Uint8ClampedArray(out.buffer, out.byteOffset, out.length);
  }
  if (p.noise > 0) addNoise(px, p.noise, noiseSeed);
  const format = p.jpegQuality >= 100 ? 'png' : 'jpeg';
  // PNG (the clean ground truth) at a low compression level: three times faster, a little larger.
  const s = sharp(px, raw);
  const bytes = await (format === 'png' ? s.png({ compressionLevel: 3 }) : s.jpeg({ quality: Math.round(p.jpegQuality) })).toBuffer();
  return { image: { data: new Uint8Array(px.buffer, px.byteOffset, px.length), width, height }, bytes, format };
}
