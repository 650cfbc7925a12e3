// A convolution with its LeakyReLU fused in: y = leaky(conv(x, w) + b) as one kernel.
//
// As two layers (conv2d, then leakyReLU) every activation is written twice and read once more,
// and tfjs never fuses a non-linear activation while it records gradients. Here the forward pass
// is one FusedConv2D with the activation as a post-op (oneDNN applies it in registers on the
// native backend), and the gradient is written out by hand: for alpha > 0, y > 0 exactly where
// the pre-activation is > 0, so the activation's gradient can be read from the output y and the
// pre-activation is never kept. The gradients of x, w and b are then those of a plain
// convolution with bias. On the native backend all of it is one compiled call
// (DeepfakeConvLeakyBackward: one pass for the activation's gradient and the bias's, then both
// convolution gradients reading it). Same weights and weight names as conv2d ("<name>/kernel", "<name>/bias").

import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap } from '@tensorflow/tfjs';
import { leakyReluBackward } from '../engine/extra-kernels/leaky-relu-grad';
import { NATIVE_BACKEND } from '../engine/native/native-backend';
import { CONV_LEAKY_BACKWARD, type ConvLeakyBackwardAttrs } from '../engine/native/kernels';

type Initializer = ReturnType<typeof tf.initializers.glorotUniform>;

/** The layer's own kernel name: the backend's FusedConv2D, with the gradient below. */
const CONV_LEAKY = 'DeepfakeConvLeaky';

interface ConvLeakyAttrs {
  strides: number;
  pad: 'same';
  dataFormat: 'NHWC';
  dilations: number;
  activation: 'leakyrelu';
  leakyreluAlpha: number;
}

/** leaky(conv2d(x, w, strides, 'same') + b), with a hand-written gradient (see above). */
export function convLeaky(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, strides: number, alpha: number): tf.Tensor4D {
  const attrs: ConvLeakyAttrs = { strides, pad: 'same', dataFormat: 'NHWC', dilations: 1, activation: 'leakyrelu', leakyreluAlpha: alpha };
  // Its own kernel, so that TensorFlow.js asks for each input's gradient separately and skips
  // the ones nobody needs: the encoder's first layer reads the batch, whose gradient (an RGB
  // input gradient, slow in every engine) took 1 ms of each of its backward passes on native.
  if (forwardKernel()) return tf.engine().runKernel(CONV_LEAKY, { x, filter: w, bias: b }, attrs as unknown as NamedAttrMap) as tf.Tensor4D;
  // A backend registered after this module ran its first layer: the same gradient, every input's.
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xi, wi, bi, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    // tf.fused.conv2d splits into conv, add and activation whenever gradients are being
    // recorded, which is always the case here: the kernel itself instead.
    const y = tf.engine().runKernel('FusedConv2D', { x: xi, filter: wi, bias: bi }, attrs as unknown as NamedAttrMap) as tf.Tensor4D;
    save([xi, wi, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx, sw, sy] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
        const [dx, dw, db] = backward(dy as tf.Tensor4D, sx, sw, sy, strides, alpha, true);
        return [dx!, dw, db];
      },
    };
  });
  return op(x, w, b) as tf.Tensor4D;
}

/** Register the layer's kernel for the current backend (its FusedConv2D) once; false if it has none. */
function forwardKernel(): boolean {
  const backendName = tf.getBackend();
  if (tf.getKernel(CONV_LEAKY, backendName)) return true;
  const fused = tf.getKernel('FusedConv2D', backendName);
  if (!fused) return false;
  tf.registerKernel({ kernelName: CONV_LEAKY, backendName, kernelFunc: (args) => fused.kernelFunc(args) });
  if (!tf.getGradient(CONV_LEAKY)) tf.registerGradient(convLeakyGradConfig);
  return true;
}

/** [dx or null, dw, db] of y = leaky(conv(x, w) + b): one compiled call on native (see above). */
function backward(dy: tf.Tensor4D, x: tf.Tensor4D, w: tf.Tensor4D, y: tf.Tensor4D, strides: number, alpha: number, inputGradient: boolean): [tf.Tensor | null, tf.Tensor, tf.Tensor] {
  if (nativeBackward(w, strides)) {
    const nativeAttrs: ConvLeakyBackwardAttrs = { strides, alpha, inputGradient };
    const out = tf.engine().runKernel(CONV_LEAKY_BACKWARD, { dy, y, x, filter: w }, nativeAttrs as unknown as NamedAttrMap) as tf.Tensor[];
    return inputGradient ? [out[0]!, out[1]!, out[2]!] : [null, out[0]!, out[1]!];
  }
  const grads = tf.tidy(() => {
    const dz = leakyReluBackward(dy, y, alpha); // from the output: same sign as z
    const conv = { strides, pad: 'same' as const, dataFormat: 'NHWC' as const, dilations: 1 };
    const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: dz }, { ...conv, filterShape: w.shape } as unknown as NamedAttrMap) as tf.Tensor;
    const db = tf.sum(dz, [0, 1, 2]);
    if (!inputGradient) return [dw, db];
    return [tf.engine().runKernel('Conv2DBackpropInput', { dy: dz, filter: w }, { ...conv, inputShape: x.shape } as unknown as NamedAttrMap) as tf.Tensor, dw, db];
  });
  return inputGradient ? [grads[0]!, grads[1]!, grads[2]!] : [null, grads[0]!, grads[1]!];
}

/**
 * The gradient of the layer's kernel. TensorFlow.js calls one function per input that needs a
 * gradient, x first when it does, each in its own scope. The first call computes everything asked
 * for in one go (x's call includes dx; otherwise dx is never computed) and keeps what it does not
 * return; a later call returns a clone made in its own scope (so TensorFlow.js frees it like any
 * other gradient) and drops the kept one. Anything never asked for (weights frozen under a
 * trainable input) is freed once the gradient computation has returned.
 */
const convLeakyGradConfig: tf.GradConfig = {
  kernelName: CONV_LEAKY,
  inputsToSave: ['x', 'filter'],
  outputsToSave: [true],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
    const [x, w, y] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const { strides, leakyreluAlpha: alpha } = attrs as unknown as ConvLeakyAttrs;
    let kept: Array<tf.Tensor | null> | null = null;
    const take = (i: 0 | 1 | 2, inputGradient: boolean): tf.Tensor => {
      if (!kept) {
        const all = backward(dy as tf.Tensor4D, x, w, y, strides, alpha, inputGradient);
        const left = all.map((t, j) => (t && j !== i ? tf.keep(t) : null));
        kept = left;
        queueMicrotask(() => left.forEach((t) => t?.dispose()));
        return all[i]!;
      }
      const t = kept[i];
      if (!t) throw new Error('ConvLeaky: the input gradient was asked for after the others');
      kept[i] = null;
      const mine = t.clone();
      t.dispose();
      return mine;
    };
    return { x: () => take(0, true), filter: () => take(1, false), bias: () => take(2, false) };
  },
};

/** Whether the native backend's one-call gradient applies (it has no strided 1x1 filter path). */
function nativeBackward(w: tf.Tensor4D, strides: number): boolean {
  const strided1x1 = w.shape[0] === 1 && w.shape[1] === 1 && strides > 1;
  return tf.getBackend() === NATIVE_BACKEND && tf.getKernel(CONV_LEAKY_BACKWARD, NATIVE_BACKEND) !== undefined && !strided1x1;
}

export interface ConvLeakyArgs {
  filters: number;
  kernelSize: number;
  strides?: number;
  /** Negative slope; must be > 0 (the gradient reads the sign from the output). */
  alpha: number;
  kernelInitializer?: Initializer;
  name?: string;
}

export class ConvLeaky extends tf.layers.Layer {
  static readonly className = 'ConvLeaky';
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly alpha: number;
  private readonly init: Initializer;
  private kernel: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;

  constructor(args: ConvLeakyArgs) {
    super({ name: args.name });
    if (!(args.alpha > 0)) throw new Error(`ConvLeaky: alpha must be > 0, got ${args.alpha}`);
    this.filters = args.filters;
    this.kernelSize = args.kernelSize;
    this.strides = args.strides ?? 1;
    this.alpha = args.alpha;
    this.init = args.kernelInitializer ?? tf.initializers.glorotUniform({});
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = inputShape as tf.Shape;
    const channels = shape[shape.length - 1] as number;
    const k = this.kernelSize;
    this.kernel = this.addWeight('kernel', [k, k, channels, this.filters], 'float32', this.init);
    this.bias = this.addWeight('bias', [this.filters], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [n, h, w] = inputShape as tf.Shape;
    const out = (side: number | null) => (side == null ? null : Math.ceil(side / this.strides));
    return [n, out(h), out(w), this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return convLeaky(x, this.kernel!.read() as tf.Tensor4D, this.bias!.read() as tf.Tensor1D, this.strides, this.alpha);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters, kernelSize: this.kernelSize, strides: this.strides, alpha: this.alpha };
  }
}

tf.serialization.registerClass(ConvLeaky);
