// The deepfake augmentation, on pixel arrays (a 64 px face is 4096 pixels: a loop is faster than
// sending it through tensor kernels, and it is easy to read). The random draws are made here; the
// per-pixel loop (samplePixels) runs compiled on the native backend (native/src/augment.cc, the
// same arithmetic), in JavaScript elsewhere.
//
// 1. A random transform (rotation, zoom, shift, horizontal flip) applied to input and target
//    alike: the model sees more poses and positions than the folder holds.
// 2. The random warp, applied to the input only: a coarse grid of control points is jittered and
//    the input resampled through the smooth displacement it defines. The target stays unwarped, so
//    the network cannot copy pixels through: it must learn what a face of this person looks like.
//
// Both are composed into one sampling map per image, so the input is interpolated once.

import { activeAddon } from '../engine/native/native-backend';
import type { Rng } from '../util/rng';
import type { AugmentOptions } from './settings-schema';

// Declared once, as a schema: lib/train/settings-schema.ts.
export type { AugmentOptions } from './settings-schema';

// The settings of the original deepfake code: random_transform(10, 0.05, 0.05, 0.4), and a 5x5
// warp grid jittered by 5 px on a 256 px image whose central 128 px become the 64 px face.
export const DEFAULT_AUGMENT: AugmentOptions = { rotation: 10, zoom: 0.05, shift: 0.05, flip: 0.4, warpGrid: 5, warpScale: 5 / 128 };

export const NO_AUGMENT: AugmentOptions = { rotation: 0, zoom: 0, shift: 0, flip: 0, warpGrid: 5, warpScale: 0 };

/** A one-channel map of a face (size*size floats) and the batch array it is resampled into. */
export interface MapChannel {
  /** The face's own map, in its unaugmented frame (e.g. its face mask). */
  src: Float32Array;
  /** Batch array (n*size*size); this face's map, moved like the target, goes to face index `at`. */
  dst: Float32Array;
}

/** Where an augmented image is written: rgb (size*size*3) at face index `at`, plus any maps. */
export interface AugmentTarget {
  input: Float32Array;
  target: Float32Array;
  /** Per-face maps (face mask, loss weights) that follow the target's transform, never the warp. */
  maps?: MapChannel[];
  /** Another picture of the same face to draw the input from (e.g. with another background); default: the face itself. */
  inputSource?: Uint8Array;
  at: number;
}

/** Bilinear sample of channel-interleaved bytes at (x, y) in pixel-centre coordinates, edges repeated. */
function sample(src: Uint8Array, size: number, x: number, y: number, out: Float32Array, o: number): void {
  const fx = Math.min(Math.max(x - 0.5, 0), size - 1);
  const fy = Math.min(Math.max(y - 0.5, 0), size - 1);
  const x0 = Math.floor(fx), y0 = Math.floor(fy);
  const x1 = Math.min(x0 + 1, size - 1), y1 = Math.min(y0 + 1, size - 1);
  const ax = fx - x0, ay = fy - y0;
  const w00 = (1 - ax) * (1 - ay), w01 = ax * (1 - ay), w10 = (1 - ax) * ay, w11 = ax * ay;
  const i00 = (y0 * size + x0) * 3, i01 = (y0 * size + x1) * 3, i10 = (y1 * size + x0) * 3, i11 = (y1 * size + x1) * 3;
  for (let c = 0; c < 3; c++)
    out[o + c] = (w00 * src[i00 + c] + w01 * src[i01 + c] + w10 * src[i10 + c] + w11 * src[i11 + c]) / 255;
}

/** `face` with everything outside `mask` (size*size, 0..1) taken from `background`: a new array. */
export function withBackground(face: Uint8Array, mask: Float32Array, background: Uint8Array): Uint8Array {
  const out = new Uint8Array(face.length);
  for (let i = 0, p = 0; p < mask.length; p++) {
    const m = mask[p];
    for (let c = 0; c < 3; c++, i++) out[i] = Math.round(m * face[i] + (1 - m) * background[i]);
  }
  return out;
}

/** Bilinear sample of a one-channel map at (x, y) in pixel-centre coordinates; 0 outside. */
function sampleMap(src: Float32Array, size: number, x: number, y: number): number {
  const fx = x - 0.5, fy = y - 0.5;
  if (fx <= -1 || fy <= -1 || fx >= size || fy >= size) return 0;
  const x0 = Math.floor(fx), y0 = Math.floor(fy), ax = fx - x0, ay = fy - y0;
  // Written out without helpers: this runs for every pixel of every face of every batch.
  const inX0 = x0 >= 0, inX1 = x0 + 1 < size, inY0 = y0 >= 0, inY1 = y0 + 1 < size;
  const r0 = y0 * size, r1 = r0 + size;
  const v00 = inX0 && inY0 ? src[r0 + x0] : 0, v01 = inX1 && inY0 ? src[r0 + x0 + 1] : 0;
  const v10 = inX0 && inY1 ? src[r1 + x0] : 0, v11 = inX1 && inY1 ? src[r1 + x0 + 1] : 0;
  return (1 - ay) * ((1 - ax) * v00 + ax * v01) + ay * ((1 - ax) * v10 + ax * v11);
}

/** The warp's control points: g x g jittered displacements [dx, dy], or null when there is no warp. */
function warpGrid(size: number, rng: Rng, opts: AugmentOptions): Float32Array | null {
  if (opts.warpScale <= 0) return null;
  const grid = new Float32Array(opts.warpGrid * opts.warpGrid * 2);
  const sd = opts.warpScale * size;
  for (let i = 0; i < grid.length; i++) grid[i] = rng.normal(0, sd);
  return grid;
}

/** The control points' displacements bilinearly interpolated to every pixel: [dx, dy] per pixel. */
function warpField(size: number, grid: Float32Array, g: number): Float32Array {
  // Control points span a little more than the image (as in the original), so its edges move too.
  const lo = -0.125 * size, span = 1.25 * size;
  const field = new Float32Array(size * size * 2);
  // Per-column grid cell and weight, computed once (this loop runs for every pixel of every face).
  const cx0 = new Int32Array(size), cax = new Float64Array(size);
  for (let x = 0; x < size; x++) {
    const gx = ((x + 0.5 - lo) / span) * (g - 1);
    cx0[x] = Math.min(Math.floor(gx), g - 2);
    cax[x] = gx - cx0[x];
  }
  for (let y = 0; y < size; y++) {
    const gy = ((y + 0.5 - lo) / span) * (g - 1);
    const y0 = Math.min(Math.floor(gy), g - 2), ay = gy - y0;
    for (let x = 0; x < size; x++) {
      const x0 = cx0[x], ax = cax[x];
      const r0 = (y0 * g + x0) * 2, r1 = ((y0 + 1) * g + x0) * 2;
      for (let k = 0; k < 2; k++) {
        field[(y * size + x) * 2 + k] =
          (1 - ay) * ((1 - ax) * grid[r0 + k] + ax * grid[r0 + 2 + k]) + ay * ((1 - ax) * grid[r1 + k] + ax * grid[r1 + 2 + k]);
      }
    }
  }
  return field;
}

/**
 * Augment one face (size*size*3 bytes) into `dst` at face index dst.at. The random draws happen in
 * a fixed order, so the same Rng state always gives the same images.
 */
export function augmentFace(src: Uint8Array, size: number, rng: Rng, opts: AugmentOptions, dst: AugmentTarget): void {
  const angle = (rng.uniform(-opts.rotation, opts.rotation) * Math.PI) / 180;
  const scale = rng.uniform(1 - opts.zoom, 1 + opts.zoom);
  const tx = rng.uniform(-opts.shift, opts.shift) * size;
  const ty = rng.uniform(-opts.shift, opts.shift) * size;
  const flip = rng.next() < opts.flip;
  const grid = warpGrid(size, rng, opts);

  // Inverse of "flip, then rotate and scale about the centre, then shift": output point -> source point.
  const c = size / 2;
  const cos = Math.cos(-angle) / scale, sin = Math.sin(-angle) / scale;
  const inputSrc = dst.inputSource ?? src;
  const addon = activeAddon();
  if (addon) {
    // The same loop, compiled (native/src/augment.cc): 4.6 ms of JavaScript per batch of 16.
    const maps = dst.maps ?? [];
    addon.augment(src, inputSrc, size, Float64Array.of(cos, sin, c, tx, ty, flip ? 1 : 0, opts.warpGrid), grid, dst.input, dst.target, dst.at,
      maps.map((m) => m.src), maps.map((m) => m.dst));
  } else {
    samplePixels(src, inputSrc, size, { cos, sin, c, tx, ty, flip }, grid && warpField(size, grid, opts.warpGrid), dst);
  }
  const jitter = opts.colourJitter ?? 0;
  if (jitter > 0) {
    // Drawn after everything else, and only when on: streams without jitter stay as they were.
    const base = dst.at * size * size;
    const gain = [Math.exp(rng.normal(0, jitter)), Math.exp(rng.normal(0, jitter)), Math.exp(rng.normal(0, jitter))];
    for (let i = base * 3, end = (base + size * size) * 3; i < end; i++) dst.input[i] = Math.min(1, dst.input[i] * gain[i % 3]);
  }
}

/** Every pixel of one face: the target through the transform, the input through transform and warp, the maps like the target. */
function samplePixels(src: Uint8Array, inputSrc: Uint8Array, size: number, t: { cos: number; sin: number; c: number; tx: number; ty: number; flip: boolean },
  field: Float32Array | null, dst: AugmentTarget): void {
  const { cos, sin, c, tx, ty, flip } = t;
  // toSource(q) = flip(R * (q - c - t) + c), written out below without allocating per pixel.
  const base = dst.at * size * size;
  const maps = dst.maps;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = y * size + x;
      const qx = x + 0.5, qy = y + 0.5;
      let ux = qx - c - tx, uy = qy - c - ty;
      let sx = cos * ux - sin * uy + c;
      const sy = sin * ux + cos * uy + c;
      if (flip) sx = size - sx;
      sample(src, size, sx, sy, dst.target, (base + p) * 3);
      if (maps) for (let k = 0; k < maps.length; k++) maps[k].dst[base + p] = sampleMap(maps[k].src, size, sx, sy);
      if (field) {
        ux = qx + field[p * 2] - c - tx;
        uy = qy + field[p * 2 + 1] - c - ty;
        let wx = cos * ux - sin * uy + c;
        const wy = sin * ux + cos * uy + c;
        if (flip) wx = size - wx;
        sample(inputSrc, size, wx, wy, dst.input, (base + p) * 3);
      } else if (inputSrc !== src) {
        sample(inputSrc, size, sx, sy, dst.input, (base + p) * 3);
      } else {
        dst.input.set(dst.target.subarray((base + p) * 3, (base + p) * 3 + 3), (base + p) * 3);
      }
    }
  }
}
