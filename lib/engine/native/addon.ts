// Loads the compiled kernels (native/, built by the set-up with node-gyp against Debian's oneDNN)
// and describes what they take. Every function reads its inputs and writes its outputs in the
// Float32Arrays TensorFlow.js's cpu storage already holds: nothing is copied on the way.

import * as fs from 'fs';
import * as path from 'path';
import { PROJECT_ROOT } from '../../util/project';
import { cpuMismatch } from './cpu';

/** Fused activations, numbered as native/src/common.h numbers them. */
export const ACTIVATION = { linear: 0, relu: 1, leakyrelu: 2, sigmoid: 3, relu6: 4, elu: 5 } as const;
export const UNARY = {
  Abs: 0, Neg: 1, Square: 2, Sqrt: 3, Rsqrt: 4, Exp: 5, Log: 6, Sigmoid: 7, Tanh: 8, Relu: 9,
  LeakyRelu: 10, Step: 11, Sign: 12, Reciprocal: 13, Relu6: 14, Elu: 15, Round: 17,
} as const;
/** ClipByValue's op code for `unary` (alpha = min, beta = max); not a kernel of its own name there. */
export const UNARY_CLIP = 16;
export const BINARY = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, Maximum: 4, Minimum: 5, SquaredDifference: 6 } as const;
export const COMPARE = { Greater: 0, GreaterEqual: 1, Less: 2, LessEqual: 3, Equal: 4, NotEqual: 5 } as const;

export const CONV_FORWARD = 0;
export const CONV_BACKWARD_INPUT = 1;
export const CONV_BACKWARD_FILTER = 2;

export interface NativeAddon {
  /** dims: N H W C KH KW OC OH OW strideH strideW padTop padLeft padBottom padRight dilH dilW groups. */
  conv2d(mode: number, a: Float32Array, b: Float32Array, out: Float32Array, dims: Int32Array, bias?: Float32Array | null, activation?: number, alpha?: number): void;
  /**
   * The gradients of y = leaky(conv(x, w) + b) in one call (lib/model/conv-leaky.ts): dz from dy and
   * y's sign, then dx, dw and db = sum of dz. dims as conv2d's; groups 1.
   */
  /** dx null: no input gradient (the input needs none). */
  convLeakyBackward(dy: Float32Array, y: Float32Array, x: Float32Array, w: Float32Array, dims: Int32Array, alpha: number,
    dx: Float32Array | null, dw: Float32Array, db: Float32Array): void;
  matMul(a: Float32Array, b: Float32Array, out: Float32Array, batchA: number, batchB: number, m: number, n: number, k: number,
    transposeA: boolean, transposeB: boolean, bias?: Float32Array | null, activation?: number, alpha?: number): void;
  unary(op: number, x: Float32Array, y: Float32Array, alpha?: number, beta?: number): void;
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array): void;
  compare(op: number, a: Float32Array, b: Float32Array, out: Uint8Array): void;
  select(cond: Uint8Array, a: Float32Array, b: Float32Array, out: Float32Array): void;
  /** out = x > 0 ? dy : alpha * dy. */
  leakyReluGrad(dy: Float32Array, x: Float32Array, out: Float32Array, alpha: number): void;
  /** out[0] = mean |a - b| (the difference in float32, the sum in double). */
  l1Mean(a: Float32Array, b: Float32Array, out: Float32Array): void;
  /** The L1 mean's gradient with respect to a for the loss's gradient dy: dy / n where a - b > 0, -(dy / n) elsewhere. */
  l1MeanGrad(a: Float32Array, b: Float32Array, dy: number, out: Float32Array): void;
  /** out[o][j] = scale * sum over m of x[o][m][j]. */
  reduce(x: Float32Array, outer: number, mid: number, inner: number, out: Float32Array, scale: number): void;
  transpose(x: Float32Array, shape: Int32Array, perm: Int32Array, out: Float32Array): void;
  depthToSpace(x: Float32Array, n: number, h: number, w: number, c: number, block: number, out: Float32Array, inverse: boolean): void;
  /** dst[dstBegin + i] = src[srcBegin + i] over a box of `size` (Slice, Concat); 4-byte elements. */
  copyBox(src: Float32Array | Int32Array, srcShape: Int32Array, srcBegin: Int32Array, dst: Float32Array | Int32Array, dstShape: Int32Array,
    dstBegin: Int32Array, size: Int32Array): void;
  /** tf.image.transform: 8 numbers per image (or one set for all); fillMode 0 constant, 1 reflect, 2 wrap, 3 nearest. */
  transform(image: Float32Array, transforms: Float32Array, out: Float32Array, n: number, h: number, w: number, c: number, oh: number, ow: number,
    bilinear: boolean, fillMode: number, fillValue: number): void;
  resizeBilinear(image: Float32Array, out: Float32Array, n: number, h: number, w: number, c: number, oh: number, ow: number,
    alignCorners: boolean, halfPixelCenters: boolean): void;
  /** face-api SSD's input: the photo [h, w, c] (0-255) padded to a square, scaled to s x s, then x / 127.5 - 1 (lib/faces/ssd-fused.ts). */
  ssdInput(image: Float32Array, out: Float32Array, h: number, w: number, c: number, s: number): void;
  /** MaxPool (max) or AvgPool over NHWC, the window clipped to the image. */
  pool(x: Float32Array, out: Float32Array, n: number, h: number, w: number, c: number, oh: number, ow: number, kh: number, kw: number,
    strideH: number, strideW: number, padTop: number, padLeft: number, max: boolean): void;
  /** out[i] = x[i] * scale[i % C] + shift[i % C], C = scale.length. */
  channelAffine(x: Float32Array, scale: Float32Array, shift: Float32Array, out: Float32Array): void;
  /** out[i] = bytes[i]: 8-bit pixels as floats. */
  bytesToF32(bytes: Uint8Array, out: Float32Array): void;
  /** 8-bit RGB from floats as tensorToImage stores them: fround(v * k), NaN 0, clamped, halves to even; 1 channel repeated. */
  f32ToBytes(values: Float32Array, k: number, channels: number, out: Uint8Array): void;
  /** Where the buffer's memory starts, modulo 64 (the backend aligns its arrays with it). */
  addressMod64(buffer: ArrayBuffer): number;
  /**
   * One face of a training batch (lib/train/augment.ts's pixel loop): params are cos, sin, centre,
   * tx, ty, flip (0/1) and the warp grid's side; grid null for no warp.
   */
  augment(src: Uint8Array, inputSrc: Uint8Array, size: number, params: Float64Array, grid: Float32Array | null,
    input: Float32Array, target: Float32Array, at: number, mapSrc: Float32Array[], mapDst: Float32Array[]): void;
  adam(p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, lr: number, beta1: number, beta2: number, epsilon: number,
    c1: number, c2: number, pOut: Float32Array, mOut: Float32Array, vOut: Float32Array): void;
  info(): { onednn: string; threads: number };
  /**
   * The convolution primitive cache: entries now, its bound, and how many were built and evicted;
   * the largest convolution built (multiply-adds, oneDNN's implementation of each pass) and the precision.
   */
  cacheInfo(): {
    entries: number; capacity: number; built: number; evicted: number;
    largest: { macs: number; forward: string; backwardData: string; backwardWeights: string };
    precision: 'fp32' | 'bf16';
  };
  /** Convolutions in bf16 (inputs) with fp32 accumulation and outputs, or fp32; process-wide. */
  setPrecision(p: 'fp32' | 'bf16'): void;
}

/** Where the set-up puts the addon; DEEPFAKE_NATIVE_ADDON points elsewhere (tests use it to hide it). */
export function addonPath(): string {
  return process.env.DEEPFAKE_NATIVE_ADDON || path.join(PROJECT_ROOT, 'native', 'build', 'Release', 'deepfake_native.node');
}

export type AddonLoad = { ok: true; addon: NativeAddon } | { ok: false; reason: string };

let loaded: AddonLoad | null = null;

/** Load once; on failure say why in one line (not built, or built but unloadable). */
export function loadAddon(): AddonLoad {
  if (loaded) return loaded;
  const file = addonPath();
  if (!fs.existsSync(file)) {
    loaded = { ok: false, reason: `not built (${path.relative(PROJECT_ROOT, file) || file} missing; the set-up builds it when libdnnl-dev is installed: npm run setup)` };
    return loaded;
  }
  // Compiled with -march=native: on a CPU without those extensions it would die with SIGILL.
  let mismatch: string | null;
  try {
    mismatch = cpuMismatch(file);
  } catch (e) {
    mismatch = `its CPU stamp is unreadable (${e instanceof Error ? e.message : String(e)}): run npm run setup`;
  }
  if (mismatch) {
    loaded = { ok: false, reason: mismatch };
    return loaded;
  }
  // OpenMP's default lets idle worker threads spin; when anything else wants the cores (a
  // notebook's kernel beside a browser, a second process) every kernel then runs ~3x slower.
  // Sleeping workers measured the same alone and 2.2x faster beside a busy core (bench, lite:
  // 170.7 vs 170.7 faces/s alone, 106.0 vs 48.0 with one core busy). libgomp reads this when it
  // loads, so it must be set before the addon is required; a user's own setting wins.
  // A short spin first (GOMP_SPINCOUNT 3000, some 30 us, which overrides PASSIVE's none) keeps a
  // worker awake between back-to-back kernels. Paired on the 2-core Xeon, spin 0 / 3000 / 20000:
  // training lite 190.9, 187.7 / 201.4, 201.1 / - faces/s alone and 117.7, 114.0 / 110.5, 107.7 /
  // 88.9, 87.0 beside a busy core; extraction 7.97, 7.86 / 8.55, 8.13 / 8.65, 8.64 photos/s.
  if (!process.env.OMP_WAIT_POLICY) {
    process.env.OMP_WAIT_POLICY = 'PASSIVE';
    process.env.GOMP_SPINCOUNT ??= '3000';
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = { ok: true, addon: require(file) as NativeAddon };
  } catch (e) {
    const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 200);
    loaded = { ok: false, reason: `built but failed to load: ${msg}` };
  }
  return loaded;
}
