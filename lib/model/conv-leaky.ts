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
import { leakyReluBackward } from '../kernels/leaky-relu-grad';
import { NATIVE_BACKEND } from '../native/backend';
import { CONV_LEAKY_BACKWARD, type ConvLeakyBackwardAttrs } from '../native/kernels';

type Initializer = ReturnType<typeof tf.initializers.glorotUniform>;

/** leaky(conv2d(x, w, strides, 'same') + b), with a hand-written gradient (see above). */
export function convLeaky(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, strides: number, alpha: number): tf.Tensor4D {
  // customGrad passes the inputs, then the save function, as one list.
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xi, wi, bi, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    // The kernel itself: tf.fused.conv2d splits into conv, add and activation whenever gradients
    // are being recorded, which is always the case here.
    const attrs = { strides, pad: 'same', dataFormat: 'NHWC', dilations: 1, activation: 'leakyrelu', leakyreluAlpha: alpha };
    const y = tf.engine().runKernel('FusedConv2D', { x: xi, filter: wi, bias: bi }, attrs as unknown as NamedAttrMap) as tf.Tensor4D;
    save([xi, wi, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx, sw, sy] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
        if (nativeBackward(sw, strides)) {
          const nativeAttrs: ConvLeakyBackwardAttrs = { strides, alpha };
          return tf.engine().runKernel(CONV_LEAKY_BACKWARD, { dy: dy as tf.Tensor, y: sy, x: sx, filter: sw }, nativeAttrs as unknown as NamedAttrMap) as tf.Tensor[];
        }
        const dz = leakyReluBackward(dy as tf.Tensor4D, sy, alpha);  // from the output: same sign as z
        const conv = { strides, pad: 'same' as const, dataFormat: 'NHWC' as const, dilations: 1 };
        const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy: dz, filter: sw }, { ...conv, inputShape: sx.shape } as unknown as NamedAttrMap) as tf.Tensor;
        const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x: sx, dy: dz }, { ...conv, filterShape: sw.shape } as unknown as NamedAttrMap) as tf.Tensor;
        return [dx, dw, tf.sum(dz, [0, 1, 2])];
      },
    };
  });
  return op(x, w, b) as tf.Tensor4D;
}

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
