// The kernels the native backend runs in compiled code, by TensorFlow.js kernel name. Each returns
// null for a case it does not handle (another dtype, a broadcast it does not support, NCHW ...),
// and the backend then runs the cpu backend's JavaScript kernel instead.
// Tested against the cpu backend on random shapes in test/unit/native-backend.test.ts.

import * as tf from '@tensorflow/tfjs';
import type {
  AvgPoolAttrs, BatchMatMulAttrs, CastAttrs, ClipByValueAttrs, ConcatAttrs, Conv2DBackpropFilterAttrs, Conv2DBackpropInputAttrs,
  DepthToSpaceAttrs, FillAttrs, GatherV2Attrs, ScatterNdAttrs, FusedBatchNormAttrs, FusedConv2DAttrs, FusedDepthwiseConv2DAttrs, KernelFunc, LeakyReluAttrs, MeanAttrs,
  NamedAttrMap, NamedTensorInfoMap, PadV2Attrs, ResizeBilinearAttrs, SliceAttrs, StepAttrs, SumAttrs, TensorInfo, TileAttrs,
  TransformAttrs, TransposeAttrs, _FusedMatMulAttrs,
} from '@tensorflow/tfjs';
import {
  ACTIVATION, BINARY, COMPARE, CONV_BACKWARD_FILTER, CONV_BACKWARD_INPUT, CONV_FORWARD, UNARY, UNARY_CLIP, type NativeAddon,
} from './addon';
import type { NativeBackend } from './native-backend';

export type NativeKernel = (args: { inputs: NamedTensorInfoMap; backend: NativeBackend; attrs: NamedAttrMap }) => TensorInfo | TensorInfo[] | null;

/** The fused Adam update (not a TensorFlow.js kernel; see lib/engine/native/adam.ts). */
export const FUSED_ADAM = 'DeepfakeFusedAdam';
/** LeakyRelu's gradient in one pass (lib/engine/extra-kernels/leaky-relu-grad.ts calls it on this backend). */
export const LEAKY_RELU_GRAD = 'DeepfakeLeakyReluGrad';
/** The L1 loss, mean |a - b|, and its gradient, one pass each (lib/engine/extra-kernels/l1-loss.ts calls them on this backend). */
export const L1_MEAN = 'DeepfakeL1Mean';
export const L1_MEAN_GRAD = 'DeepfakeL1MeanGrad';
/** face-api SSD's input in one pass (lib/faces/ssd-fused.ts calls it on this backend). */
export const SSD_INPUT_KERNEL = 'DeepfakeSsdInput';
export interface SsdInputAttrs {
  /** The side of the square input, in pixels. */
  size: number;
}
/** ConvLeaky's gradients in one call (lib/model/conv-leaky.ts calls it on this backend). */
export const CONV_LEAKY_BACKWARD = 'DeepfakeConvLeakyBackward';
export interface ConvLeakyBackwardAttrs {
  strides: number;
  alpha: number;
  /** false: no input gradient; the kernel then returns [dw, db]. */
  inputGradient?: boolean;
}
export interface FusedAdamAttrs {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1 - beta1^t and 1 - beta2^t, the bias corrections. */
  c1: number;
  c2: number;
}

type Shape4 = [number, number, number, number];
const { computeConv2DInfo, convertConv2DDataFormat, assertAndGetBroadcastShape } = tf.backend_util;
const size = tf.util.sizeFromShape;

function activationCode(name: string | undefined): number | null {
  if (!name) return ACTIVATION.linear;
  return name in ACTIVATION ? ACTIVATION[name as keyof typeof ACTIVATION] : null; // prelu: not compiled
}

function convDims(ci: tf.backend_util.Conv2DInfo, groups: number): Int32Array {
  return Int32Array.from([
    ci.batchSize, ci.inHeight, ci.inWidth, ci.inChannels, ci.filterHeight, ci.filterWidth, ci.outChannels,
    ci.outHeight, ci.outWidth, ci.strideHeight, ci.strideWidth, ci.padInfo.top, ci.padInfo.left,
    ci.padInfo.bottom, ci.padInfo.right, ci.dilationHeight, ci.dilationWidth, groups,
  ]);
}

/** Conv2D, FusedConv2D and their depthwise twins: forward, optionally with bias and activation. */
function convForward(addon: NativeAddon, depthwise: boolean): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    const { x, filter, bias, preluActivationWeights } = inputs;
    if (!x || !filter) return null;
    const a = attrs as unknown as FusedConv2DAttrs & FusedDepthwiseConv2DAttrs;
    const xv = backend.f32(x), wv = backend.f32(filter);
    const act = activationCode(a.activation);
    if (!xv || !wv || act === null || preluActivationWeights || size(x.shape) === 0) return null;
    const fmt = depthwise ? 'channelsLast' : convertConv2DDataFormat(a.dataFormat ?? 'NHWC');
    if (fmt !== 'channelsLast') return null;
    const ci = computeConv2DInfo(x.shape as Shape4, filter.shape as Shape4, a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, depthwise, fmt);
    let bv: Float32Array | null = null;
    if (bias) {
      bv = backend.f32(bias);
      if (!bv || bv.length !== ci.outChannels) return null;
    }
    const out = backend.output(ci.outShape);
    addon.conv2d(CONV_FORWARD, xv, wv, out.values, convDims(ci, depthwise ? ci.inChannels : 1), bv, act, a.leakyreluAlpha ?? 0.2);
    return out.info;
  };
}

function convBackpropInput(addon: NativeAddon): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs;
    if (!dy || !filter) return null;
    const a = attrs as unknown as Conv2DBackpropInputAttrs;
    const dyv = backend.f32(dy), wv = backend.f32(filter);
    const fmt = convertConv2DDataFormat(a.dataFormat);
    if (!dyv || !wv || fmt !== 'channelsLast' || size(dy.shape) === 0) return null;
    const ci = computeConv2DInfo(a.inputShape, filter.shape as Shape4, a.strides, 1, a.pad, a.dimRoundingMode, false, fmt);
    const out = backend.output([...a.inputShape]);
    addon.conv2d(CONV_BACKWARD_INPUT, dyv, wv, out.values, convDims(ci, 1));
    return out.info;
  };
}

function convBackpropFilter(addon: NativeAddon): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs;
    if (!x || !dy) return null;
    const a = attrs as unknown as Conv2DBackpropFilterAttrs;
    const xv = backend.f32(x), dyv = backend.f32(dy);
    const fmt = convertConv2DDataFormat(a.dataFormat);
    if (!xv || !dyv || fmt !== 'channelsLast' || size(dy.shape) === 0) return null;
    const ci = computeConv2DInfo(x.shape as Shape4, a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode, false, fmt);
    const out = backend.output([...a.filterShape]);
    addon.conv2d(CONV_BACKWARD_FILTER, xv, dyv, out.values, convDims(ci, 1));
    return out.info;
  };
}

/**
 * dx, dw and db of y = leaky(conv(x, w, 'same') + b) from dy and the saved x, w and y: one compiled
 * call instead of LeakyReluGrad, Conv2DBackpropInput, Conv2DBackpropFilter and Sum (see conv.cc).
 * Without an input gradient (attrs.inputGradient false) only dw and db.
 */
function convLeakyBackward(addon: NativeAddon): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    const { dy, y, x, filter } = inputs;
    if (!dy || !y || !x || !filter) return null;
    const a = attrs as unknown as ConvLeakyBackwardAttrs;
    const dyv = backend.f32(dy), yv = backend.f32(y), xv = backend.f32(x), wv = backend.f32(filter);
    if (!dyv || !yv || !xv || !wv || size(dy.shape) === 0 || !tf.util.arraysEqual(dy.shape, y.shape)) return null;
    // A strided 1x1 filter is refused by the addon with its reason (conv-leaky.ts never sends one).
    const ci = computeConv2DInfo(x.shape as Shape4, filter.shape as Shape4, a.strides, 1, 'same', undefined, false, 'channelsLast');
    const dx = a.inputGradient === false ? null : backend.output([...x.shape]);
    const dw = backend.output([...filter.shape]), db = backend.output([ci.outChannels]);
    addon.convLeakyBackward(dyv, yv, xv, wv, convDims(ci, 1), a.alpha, dx?.values ?? null, dw.values, db.values);
    return dx ? [dx.info, dw.info, db.info] : [dw.info, db.info];
  };
}

/** BatchMatMul and _FusedMatMul (dense layers): oneDNN's sgemm per batch entry. */
function matMul(addon: NativeAddon): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    const { a, b, bias, preluActivationWeights } = inputs;
    if (!a || !b) return null;
    const at = attrs as unknown as _FusedMatMulAttrs & BatchMatMulAttrs;
    const av = backend.f32(a), bv = backend.f32(b);
    const act = activationCode(at.activation);
    if (!av || !bv || act === null || preluActivationWeights || a.shape.length < 2 || b.shape.length < 2) return null;
    const ra = a.shape.length, rb = b.shape.length;
    const m = at.transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const k = at.transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const kb = at.transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    const n = at.transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
    const batchA = size(outerA), batchB = size(outerB);
    if (k !== kb || (batchA !== batchB && batchA !== 1 && batchB !== 1) || m * n * k === 0) return null;
    let biasV: Float32Array | null = null;
    if (bias) {
      biasV = backend.f32(bias);
      if (!biasV || (biasV.length !== n && biasV.length !== 1)) return null;
    }
    const outer = batchA >= batchB ? (batchA === batchB && outerA.length < outerB.length ? outerB : outerA) : outerB;
    const out = backend.output([...outer, m, n]);
    addon.matMul(av, bv, out.values, batchA, batchB, m, n, k, at.transposeA, at.transposeB, biasV, act, at.leakyreluAlpha ?? 0.2);
    return out.info;
  };
}

/** True when `shape` broadcasts to `out` as a scalar, the same shape, or a trailing block. */
function trailingBroadcast(shape: number[], out: number[]): boolean {
  const n = size(shape);
  if (n === 1 || n === size(out)) return true;
  let s = 0;
  while (s < shape.length && shape[s] === 1) s++;
  const core = shape.slice(s);
  const tail = out.slice(out.length - core.length);
  return core.length <= out.length && core.every((d, i) => d === tail[i]);
}

/** Arithmetic (float32 out) or comparison (bool out) of two float32 tensors. */
function binary(addon: NativeAddon, op: number, comparison: boolean): NativeKernel {
  return ({ inputs, backend }) => {
    const { a, b } = inputs;
    if (!a || !b) return null;
    const av = backend.f32(a), bv = backend.f32(b);
    if (!av || !bv) return null;
    const shape = assertAndGetBroadcastShape(a.shape, b.shape);
    if (size(shape) === 0 || !trailingBroadcast(a.shape, shape) || !trailingBroadcast(b.shape, shape)) return null;
    if (comparison) {
      const out = backend.outputBool(shape);
      addon.compare(op, av, bv, out.values);
      return out.info;
    }
    const out = backend.output(shape);
    addon.binary(op, av, bv, out.values);
    return out.info;
  };
}

function unary(addon: NativeAddon, op: number): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    const x = inputs.x;
    const xv = x ? backend.f32(x) : null;
    if (!x || !xv) return null;
    const alpha = (attrs as unknown as Partial<LeakyReluAttrs & StepAttrs> | undefined)?.alpha ?? 0;
    const out = backend.output([...x.shape]);
    addon.unary(op, xv, out.values, alpha);
    return out.info;
  };
}

function leakyReluGrad(addon: NativeAddon): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    const { dy, x } = inputs;
    if (!dy || !x || !tf.util.arraysEqual(dy.shape, x.shape)) return null;
    const dyv = backend.f32(dy), xv = backend.f32(x);
    if (!dyv || !xv) return null;
    const out = backend.output([...x.shape]);
    addon.leakyReluGrad(dyv, xv, out.values, (attrs as unknown as LeakyReluAttrs).alpha);
    return out.info;
  };
}

function l1Mean(addon: NativeAddon): NativeKernel {
  return ({ inputs, backend }) => {
    const { a, b } = inputs;
    if (!a || !b || !tf.util.arraysEqual(a.shape, b.shape) || size(a.shape) === 0) return null;
    const av = backend.f32(a), bv = backend.f32(b);
    if (!av || !bv) return null;
    const out = backend.output([]);
    addon.l1Mean(av, bv, out.values);
    return out.info;
  };
}

/** Inputs a, b and the loss's gradient dy (a scalar); output the gradient with respect to a. */
function l1MeanGrad(addon: NativeAddon): NativeKernel {
  return ({ inputs, backend }) => {
    const { a, b, dy } = inputs;
    if (!a || !b || !dy || !tf.util.arraysEqual(a.shape, b.shape) || size(dy.shape) !== 1) return null;
    const av = backend.f32(a), bv = backend.f32(b), dyv = backend.f32(dy);
    if (!av || !bv || !dyv) return null;
    const out = backend.output([...a.shape]);
    addon.l1MeanGrad(av, bv, dyv[0]!, out.values);
    return out.info;
  };
}

function select(addon: NativeAddon): NativeKernel {
  return ({ inputs, backend }) => {
    const { condition, t, e } = inputs;
    if (!condition || !t || !e) return null;
    const cv = backend.bool(condition), tv = backend.f32(t), ev = backend.f32(e);
    if (!cv || !tv || !ev || cv.length !== tv.length || tv.length !== ev.length) return null;
    const out = backend.output([...t.shape]);
    addon.select(cv, tv, ev, out.values);
    return out.info;
  };
}

/** Sum and Mean over one contiguous block of axes (all of them, the leading ones, the trailing ones ...). */
function reduce(addon: NativeAddon, mean: boolean): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    const { x } = inputs;
    if (!x) return null;
    const xv = backend.f32(x);
    if (!xv || size(x.shape) === 0) return null;
    const { axis, keepDims } = attrs as unknown as SumAttrs & MeanAttrs;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
    if (axes.some((ax, i) => i > 0 && ax !== axes[i - 1] + 1)) return null;
    const first = axes.length ? axes[0] : 0, last = axes.length ? axes[axes.length - 1] : -1;
    const outer = size(x.shape.slice(0, first)), mid = size(x.shape.slice(first, last + 1)), inner = size(x.shape.slice(last + 1));
    const shape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
    const out = backend.output(shape);
    addon.reduce(xv, outer, mid, inner, out.values, mean && mid > 0 ? 1 / mid : 1);
    return out.info;
  };
}

function transpose(addon: NativeAddon): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    const { x } = inputs;
    if (!x) return null;
    const xv = backend.f32(x);
    const { perm } = attrs as unknown as TransposeAttrs;
    if (!xv || x.shape.length === 0 || x.shape.length > 6 || size(x.shape) === 0) return null;
    const out = backend.output(perm.map((p) => x.shape[p]));
    addon.transpose(xv, Int32Array.from(x.shape), Int32Array.from(perm), out.values);
    return out.info;
  };
}

function depthToSpace(addon: NativeAddon): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    const { x } = inputs;
    if (!x) return null;
    const xv = backend.f32(x);
    const { blockSize: b, dataFormat } = attrs as unknown as DepthToSpaceAttrs;
    if (!xv || dataFormat !== 'NHWC' || x.shape.length !== 4) return null;
    const [n, h, w, c] = x.shape;
    if (c % (b * b) !== 0) return null;
    const out = backend.output([n, h * b, w * b, c / (b * b)]);
    addon.depthToSpace(xv, n, h, w, c, b, out.values, false);
    return out.info;
  };
}

function clipByValue(addon: NativeAddon): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    const x = inputs.x;
    const xv = x ? backend.f32(x) : null;
    const { clipValueMin: lo, clipValueMax: hi } = attrs as unknown as ClipByValueAttrs;
    if (!x || !xv || !Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi) return null;
    const out = backend.output([...x.shape]);
    addon.unary(UNARY_CLIP, xv, out.values, lo, hi);
    return out.info;
  };
}

const i32 = (a: readonly number[]) => Int32Array.from(a);

/**
 * The cpu kernel for a case it already does as well as compiled code would (a slice that is a view,
 * a cast to the same type): not counted as a fallback.
 */
function onCpu(name: string, args: Parameters<NativeKernel>[0]): TensorInfo {
  return tf.getKernel(name, 'cpu')!.kernelFunc(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
}

/** Slice: a copy of the box, or (a contiguous range) the cpu kernel's view of the same memory. */
function slice(addon: NativeAddon): NativeKernel {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs;
    const xv = x ? backend.words(x) : null;
    if (!x || !xv || x.shape.length === 0 || x.shape.length > 6) return null;
    const { begin: b, size: z } = attrs as unknown as SliceAttrs;
    const [begin, sz] = tf.slice_util.parseSliceParams(x, b, z);
    tf.slice_util.assertParamsValid(x, begin, sz);
    if (size(sz) === 0 || tf.slice_util.isSliceContinous(x.shape, begin, sz)) {
      return onCpu('Slice', args);
    }
    const out = x.dtype === 'int32' ? backend.outputInt32(sz) : backend.output(sz);
    addon.copyBox(xv, i32(x.shape), i32(begin), out.values, i32(sz), i32(sz.map(() => 0)), i32(sz));
    return out.info;
  };
}

/** Concat: each input copied into its place along the axis. */
function concat(addon: NativeAddon): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    // Concat's inputs arrive as an array (tensors 0..n-1), not by name.
    const all = Object.values(inputs).filter((t): t is TensorInfo => t !== undefined);
    if (all.length === 0) return null;
    const dtype = all[0].dtype;
    if (dtype !== 'float32' && dtype !== 'int32') return null;
    const axis = tf.util.parseAxisParam((attrs as unknown as ConcatAttrs).axis, all[0].shape)[0];
    const parts = all.filter((t) => size(t.shape) > 0);
    if (parts.length === 0 || parts.some((t) => t.dtype !== dtype || t.shape.length !== all[0].shape.length || t.shape.length > 6)) return null;
    const shape = tf.backend_util.computeOutShape(parts.map((t) => t.shape), axis);
    const out = dtype === 'int32' ? backend.outputInt32(shape) : backend.output(shape);
    let at = 0;
    for (const t of parts) {
      const v = backend.words(t);
      if (!v) return null;
      const begin = shape.map((_, i) => (i === axis ? at : 0));
      addon.copyBox(v, i32(t.shape), i32(t.shape.map(() => 0)), out.values, i32(shape), i32(begin), i32(t.shape));
      at += t.shape[axis];
    }
    return out.info;
  };
}

/** Tile: the input copied once per repetition (at most 256 copies; more go to the cpu kernel). */
function tile(addon: NativeAddon): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    const { x } = inputs;
    const xv = x ? backend.words(x) : null;
    const { reps } = attrs as unknown as TileAttrs;
    if (!x || !xv || x.shape.length === 0 || x.shape.length > 6 || reps.length !== x.shape.length || size(x.shape) === 0) return null;
    const copies = size(reps);
    if (copies === 0 || copies > 256) return null;
    const shape = x.shape.map((d, i) => d * reps[i]!);
    const out = x.dtype === 'int32' ? backend.outputInt32(shape) : backend.output(shape);
    const inShape = i32(x.shape), zeros = i32(x.shape.map(() => 0)), outShape = i32(shape);
    for (let c = 0; c < copies; c++) {
      // The c-th repetition's index along each axis, last axis fastest.
      let rest = c;
      const at = new Int32Array(reps.length);
      for (let i = reps.length - 1; i >= 0; i--) {
        at[i] = (rest % reps[i]!) * x.shape[i]!;
        rest = Math.floor(rest / reps[i]!);
      }
      addon.copyBox(xv, inShape, zeros, out.values, outShape, at, inShape);
    }
    return out.info;
  };
}

/** MaxPool and AvgPool (NHWC, no dilation); the window is clipped to the image, as on cpu. */
function pool(addon: NativeAddon, max: boolean): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    const { x } = inputs;
    const xv = x ? backend.f32(x) : null;
    if (!x || !xv || x.shape.length !== 4 || size(x.shape) === 0) return null;
    const a = attrs as unknown as AvgPoolAttrs;
    const ci = tf.backend_util.computePool2DInfo(x.shape as Shape4, a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
    if (size(ci.outShape) === 0) return null;
    const out = backend.output(ci.outShape);
    addon.pool(xv, out.values, ci.batchSize, ci.inHeight, ci.inWidth, ci.inChannels, ci.outHeight, ci.outWidth, ci.effectiveFilterHeight,
      ci.effectiveFilterWidth, ci.strideHeight, ci.strideWidth, ci.padInfo.top, ci.padInfo.left, max);
    return out.info;
  };
}

/** PadV2 (constant padding): the fill, then the input copied into its place. */
function pad(addon: NativeAddon): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    const { x } = inputs;
    const xv = x ? backend.words(x) : null;
    const { paddings, constantValue } = attrs as unknown as PadV2Attrs;
    if (!x || !xv || x.shape.length === 0 || x.shape.length > 6 || size(x.shape) === 0 || !Number.isFinite(constantValue)) return null;
    if (paddings.some((p) => p[0] < 0 || p[1] < 0)) return null;
    const shape = x.shape.map((d, i) => paddings[i]![0] + d + paddings[i]![1]);
    const out = x.dtype === 'int32' ? backend.outputInt32(shape) : backend.output(shape);
    out.values.fill(constantValue);
    addon.copyBox(xv, i32(x.shape), i32(x.shape.map(() => 0)), out.values, i32(shape), i32(paddings.map((p) => p[0])), i32(x.shape));
    return out.info;
  };
}

/** FusedBatchNorm (inference): x * scale + shift per channel, the constants folded here. */
function batchNorm(addon: NativeAddon): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    const { x, mean, variance, offset, scale } = inputs;
    if (!x || !mean || !variance || x.shape.length === 0) return null;
    const xv = backend.f32(x);
    const c = x.shape[x.shape.length - 1];
    // Each parameter: per channel (the last axis) or one value; anything else goes to the cpu kernel.
    const perChannel = (t: TensorInfo | undefined, fill: number): Float32Array | null => {
      if (!t) return new Float32Array(c).fill(fill);
      const v = backend.f32(t);
      if (!v || (v.length !== c && v.length !== 1)) return null;
      return v.length === c ? v : new Float32Array(c).fill(v[0]);
    };
    const m = perChannel(mean, 0), va = perChannel(variance, 1), o = perChannel(offset, 0), g = perChannel(scale, 1);
    if (!xv || !m || !va || !o || !g || size(x.shape) === 0) return null;
    const eps = (attrs as unknown as FusedBatchNormAttrs).varianceEpsilon ?? 0.001;
    const k = new Float32Array(c), shift = new Float32Array(c);
    for (let i = 0; i < c; i++) {
      k[i] = g[i] / Math.sqrt(va[i] + eps);
      shift[i] = o[i] - m[i] * k[i];
    }
    const out = backend.output([...x.shape]);
    addon.channelAffine(xv, k, shift, out.values);
    return out.info;
  };
}

/** Fill (float32): one typed-array fill instead of the cpu kernel's element loop. */
function fill(): NativeKernel {
  return ({ backend, attrs }) => {
    const { shape, value, dtype } = attrs as unknown as FillAttrs;
    if ((dtype ?? 'float32') !== 'float32' || typeof value !== 'number' || size(shape) === 0) return null;
    const out = backend.output([...shape]);
    out.values.fill(value);
    return out.info;
  };
}

const FILL_MODES: Record<string, number> = { constant: 0, reflect: 1, wrap: 2, nearest: 3 };

/**
 * Transform (tf.image.transform): every image of the batch. (tfjs 4.22's cpu kernel returns after
 * the first image of a batch, leaving the rest at the fill value.)
 */
function transform(addon: NativeAddon): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    const { image, transforms } = inputs;
    if (!image || !transforms || image.shape.length !== 4) return null;
    const iv = backend.f32(image), tv = backend.f32(transforms);
    const a = attrs as unknown as TransformAttrs;
    const mode = FILL_MODES[a.fillMode];
    if (!iv || !tv || mode === undefined || !Number.isFinite(a.fillValue) || size(image.shape) === 0) return null;
    if (a.interpolation !== 'bilinear' && a.interpolation !== 'nearest') return null;
    const [batch, h, w, c] = image.shape as Shape4;
    const [oh, ow] = a.outputShape ?? [h, w];
    if (tv.length !== 8 && tv.length !== batch * 8) return null;
    const out = backend.output([batch, oh, ow, c]);
    addon.transform(iv, tv, out.values, batch, h, w, c, oh, ow, a.interpolation === 'bilinear', mode, a.fillValue);
    return out.info;
  };
}

/** A photo [h, w, c] (0-255) -> [1, size, size, c]: padded to a square, scaled, then x / 127.5 - 1. */
function ssdInput(addon: NativeAddon): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    const { image } = inputs;
    const iv = image ? backend.f32(image) : null;
    if (!image || !iv || image.shape.length !== 3 || size(image.shape) === 0) return null;
    const s = (attrs as unknown as SsdInputAttrs).size;
    const [h, w, c] = image.shape as [number, number, number];
    const out = backend.output([1, s, s, c]);
    addon.ssdInput(iv, out.values, h, w, c, s);
    return out.info;
  };
}

function resizeBilinear(addon: NativeAddon): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    const { images } = inputs;
    const iv = images ? backend.f32(images) : null;
    if (!images || !iv || images.shape.length !== 4 || size(images.shape) === 0) return null;
    const { alignCorners, halfPixelCenters, size: [oh, ow] } = attrs as unknown as ResizeBilinearAttrs;
    const [n, h, w, c] = images.shape as Shape4;
    const out = backend.output([n, oh, ow, c]);
    addon.resizeBilinear(iv, out.values, n, h, w, c, oh, ow, alignCorners, halfPixelCenters);
    return out.info;
  };
}

/**
 * Cast from int32 to float32 as a real Float32Array. The cpu kernel keeps the Int32Array under the
 * float32 tensor, and every compiled kernel downstream (which reads Float32Arrays) then fell back
 * to JavaScript: the photo / 255 of face extraction ran 80 ms a photo that way.
 */
function cast(addon: NativeAddon): NativeKernel {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs;
    // To its own type: the cpu kernel's identity (a new reference to the same data), not a fallback.
    if (x && x.dtype === (attrs as unknown as CastAttrs).dtype) return onCpu('Cast', args);
    if (!x || x.dtype !== 'int32' || (attrs as unknown as CastAttrs).dtype !== 'float32' || x.shape.length > 6 || size(x.shape) === 0) return null;
    const xv = backend.words(x);
    if (!(xv instanceof Int32Array)) return null;
    const shape = x.shape.length ? [...x.shape] : [1];
    const out = backend.output([...x.shape]);
    const zeros = i32(shape.map(() => 0));
    addon.copyBox(xv, i32(shape), zeros, out.values, i32(shape), zeros, i32(shape));
    return out.info;
  };
}

/**
 * GatherV2 of whole rows (axis 0, no batch dimensions) of a float32 tensor: the texture reads of a
 * warping decoder (lib/model/decoders/warping-layers.ts). A plain loop over the typed arrays: the cpu kernel
 * addresses every element through index arrays and took 55 ms of a 195 ms step; this is a copy.
 * Indices out of range fall back to the cpu kernel, which names them.
 */
function gather(): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    const { x, indices } = inputs;
    const { axis, batchDims } = attrs as unknown as GatherV2Attrs;
    const xv = x ? backend.f32(x) : null;
    const iv = indices && indices.dtype === 'int32' ? backend.words(indices) : null;
    if (!x || !xv || !(iv instanceof Int32Array) || axis !== 0 || (batchDims ?? 0) !== 0 || x.shape.length < 1) return null;
    const rows = x.shape[0]!, row = size(x.shape.slice(1));
    for (let i = 0; i < iv.length; i++) if (!(iv[i]! >= 0 && iv[i]! < rows)) return null;
    const out = backend.output([...indices!.shape, ...x.shape.slice(1)]);
    const o = out.values;
    for (let i = 0, k = 0; i < iv.length; i++) {
      const from = iv[i]! * row;
      for (let j = 0; j < row; j++) o[k++] = xv[from + j]!;
    }
    return out.info;
  };
}

/** ScatterNd into a float32 tensor with one index per row (repeated indices summed): gather's gradient. */
function scatterNd(): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    const { indices, updates } = inputs;
    const { shape } = attrs as unknown as ScatterNdAttrs;
    const uv = updates ? backend.f32(updates) : null;
    const iv = indices && indices.dtype === 'int32' ? backend.words(indices) : null;
    if (!uv || !(iv instanceof Int32Array) || indices!.shape[indices!.shape.length - 1] !== 1 || shape.length < 1) return null;
    const rows = shape[0]!, row = size(shape.slice(1));
    if (iv.length * row !== uv.length) return null;
    for (let i = 0; i < iv.length; i++) if (!(iv[i]! >= 0 && iv[i]! < rows)) return null;
    const out = backend.output([...shape]);
    const o = out.values;
    o.fill(0);
    for (let i = 0, k = 0; i < iv.length; i++) {
      const to = iv[i]! * row;
      for (let j = 0; j < row; j++) o[to + j] += uv[k++]!;
    }
    return out.info;
  };
}

/** Inputs p, m, v, g (same shape); outputs new p, m, v. */
function fusedAdam(addon: NativeAddon): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    const { p, m, v, g } = inputs;
    if (!p || !m || !v || !g) return null;
    const pv = backend.f32(p), mv = backend.f32(m), vv = backend.f32(v), gv = backend.f32(g);
    if (!pv || !mv || !vv || !gv) return null;
    const a = attrs as unknown as FusedAdamAttrs;
    const [po, mo, vo] = [0, 1, 2].map(() => backend.output([...p.shape]));
    addon.adam(pv, mv, vv, gv, a.learningRate, a.beta1, a.beta2, a.epsilon, a.c1, a.c2, po.values, mo.values, vo.values);
    return [po.info, mo.info, vo.info];
  };
}

export function nativeKernels(addon: NativeAddon): Record<string, NativeKernel> {
  const kernels: Record<string, NativeKernel> = {
    Conv2D: convForward(addon, false),
    FusedConv2D: convForward(addon, false),
    DepthwiseConv2dNative: convForward(addon, true),
    FusedDepthwiseConv2D: convForward(addon, true),
    Conv2DBackpropInput: convBackpropInput(addon),
    Conv2DBackpropFilter: convBackpropFilter(addon),
    BatchMatMul: matMul(addon),
    _FusedMatMul: matMul(addon),
    Select: select(addon),
    Sum: reduce(addon, false),
    Mean: reduce(addon, true),
    Transpose: transpose(addon),
    DepthToSpace: depthToSpace(addon),
    Transform: transform(addon),
    ResizeBilinear: resizeBilinear(addon),
    Cast: cast(addon),
    ClipByValue: clipByValue(addon),
    Slice: slice(addon),
    Concat: concat(addon),
    FusedBatchNorm: batchNorm(addon),
    Fill: fill(),
    Tile: tile(addon),
    GatherV2: gather(),
    ScatterNd: scatterNd(),
    MaxPool: pool(addon, true),
    AvgPool: pool(addon, false),
    PadV2: pad(addon),
    [FUSED_ADAM]: fusedAdam(addon),
    [LEAKY_RELU_GRAD]: leakyReluGrad(addon),
    [SSD_INPUT_KERNEL]: ssdInput(addon),
    [L1_MEAN]: l1Mean(addon),
    [L1_MEAN_GRAD]: l1MeanGrad(addon),
    [CONV_LEAKY_BACKWARD]: convLeakyBackward(addon),
  };
  for (const [name, op] of Object.entries(UNARY)) kernels[name] = unary(addon, op);
  for (const [name, op] of Object.entries(BINARY)) kernels[name] = binary(addon, op, false);
  for (const [name, op] of Object.entries(COMPARE)) kernels[name] = binary(addon, op, true);
  return kernels;
}
