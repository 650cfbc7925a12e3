// The deepfake augmentation, in plain JavaScript on pixel arrays (a 64 px face is 4096 pixels:
// a loop is faster than sending it through tensor kernels, and it is easy to read).
//
// 1. A random transform (rotation, zoom, shift, horizontal flip) applied to input and target
//    alike: the model sees more poses and positions than the folder holds.
// 2. The random warp, applied to the input only: a coarse grid of control points is jittered and
//    the input resampled through the smooth displacement it defines. The target stays unwarped, so
//    the network cannot copy pixels through: it must learn what a face of this person looks like.
//
// Both are composed into one sampling map per image, so the input is interpolated once.

import type { Rng } from './rng';

export interface AugmentOptions {
  /** Maximum rotation, degrees either way. */
  rotation: number;
  /** Maximum zoom, as a fraction either way (0.05: 95% to 105%). */
  zoom: number;
  /** Maximum shift, as a fraction of the side either way. */
  shift: number;
  /** Probability of a horizontal flip. */
  flip: number;
  /** Control points per side of the warp grid. */
  warpGrid: number;
  /** Standard deviation of each control point's jitter, as a fraction of the side. 0: no warp. */
  warpScale: number;
}

// The settings of the original deepfake code: random_transform(10, 0.05, 0.05, 0.4), and a 5x5
// warp grid jittered by 5 px on a 256 px image whose central 128 px become the 64 px face.
export const DEFAULT_AUGMENT: AugmentOptions = { rotation: 10, zoom: 0.05, shift: 0.05, flip: 0.4, warpGrid: 5, warpScale: 5 / 128 };

export const NO_AUGMENT: AugmentOptions = { rotation: 0, zoom: 0, shift: 0, flip: 0, warpGrid: 5, warpScale: 0 };

/** Where an augmented image is written: rgb (size*size*3) at face index `at`, and optionally a mask. */
export interface AugmentTarget {
  input: Float32Array;
  target: Float32Array;
  /** One channel per pixel: the face-region weight in the target's frame. */
  mask?: Float32Array;
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

/**
 * A soft ellipse over the middle of an aligned face crop: the default mask target and loss weight
 * until per-face masks from the landmarks exist. 1 inside, fading to 0 over 15% of the radius.
 */
export function defaultFaceMask(x: number, y: number, size: number): number {
  const dx = (x / size - 0.5) / 0.4, dy = (y / size - 0.55) / 0.45;
  const r = Math.sqrt(dx * dx + dy * dy);
  return Math.min(1, Math.max(0, (1.15 - r) / 0.15));
}

/** Jittered control-point displacements, bilinearly interpolated to every pixel: [dx, dy] per pixel. */
function warpField(size: number, rng: Rng, opts: AugmentOptions): Float32Array | null {
  if (opts.warpScale <= 0) return null;
  const g = opts.warpGrid;
  const sd = opts.warpScale * size;
  const grid = new Float32Array(g * g * 2);
  for (let i = 0; i < grid.length; i++) grid[i] = rng.normal(0, sd);
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
  const field = warpField(size, rng, opts);

  // Inverse of "flip, then rotate and scale about the centre, then shift": output point -> source point.
  const c = size / 2;
  const cos = Math.cos(-angle) / scale, sin = Math.sin(-angle) / scale;
  // toSource(q) = flip(R * (q - c - t) + c), written out below without allocating per pixel.
  const base = dst.at * size * size;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = y * size + x;
      const qx = x + 0.5, qy = y + 0.5;
      let ux = qx - c - tx, uy = qy - c - ty;
      let sx = cos * ux - sin * uy + c;
      const sy = sin * ux + cos * uy + c;
      if (flip) sx = size - sx;
      sample(src, size, sx, sy, dst.target, (base + p) * 3);
      if (dst.mask) dst.mask[base + p] = defaultFaceMask(sx, sy, size);
      if (field) {
        ux = qx + field[p * 2] - c - tx;
        uy = qy + field[p * 2 + 1] - c - ty;
        let wx = cos * ux - sin * uy + c;
        const wy = sin * ux + cos * uy + c;
        if (flip) wx = size - wx;
        sample(src, size, wx, wy, dst.input, (base + p) * 3);
      } else {
        dst.input.set(dst.target.subarray((base + p) * 3, (base + p) * 3 + 3), (base + p) * 3);
      }
    }
  }
}
