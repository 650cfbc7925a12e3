// The L1 loss, mean |a - b|, the reconstruction loss of every recipe. TensorFlow.js runs it as Sub,
// Abs and Mean, and its gradient as five kernels over the whole output plus an array of ones filled
// in JavaScript (Mean's), for each decoder on every step. On the native backend the loss is one
// pass and its gradient another, the gradient equal to the bit to TensorFlow.js's chain; every
// other backend keeps the three ops.

import * as tf from '@tensorflow/tfjs';
import { NATIVE_BACKEND } from '../native/backend';
import { L1_MEAN, L1_MEAN_GRAD } from '../native/kernels';

type L1 = (a: tf.Tensor, b: tf.Tensor) => tf.Scalar;
let fused: L1 | null = null;

/** The loss through the native kernels, with its gradient: dL/da from one kernel, dL/db its negative. */
function fusedL1(): L1 {
  // customGrad passes the inputs and then the save function, typed as one list.
  fused ??= tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [a, b, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([a, b]);
    return {
      value: tf.engine().runKernel(L1_MEAN, { a, b }, {}) as tf.Scalar,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sa, sb] = saved as [tf.Tensor, tf.Tensor];
        const da = tf.engine().runKernel(L1_MEAN_GRAD, { a: sa, b: sb, dy }, {}) as tf.Tensor;
        return [da, tf.neg(da)];
      },
    };
  }) as unknown as L1;
  return fused;
}

/** mean |a - b| over every element; a and b of one shape. */
export function meanAbsoluteError(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  const native = tf.getBackend() === NATIVE_BACKEND && tf.getKernel(L1_MEAN, NATIVE_BACKEND) && tf.getKernel(L1_MEAN_GRAD, NATIVE_BACKEND);
  if (native && a.dtype === 'float32' && b.dtype === 'float32' && a.size > 0 && tf.util.arraysEqual(a.shape, b.shape)) return fusedL1()(a, b);
  return tf.mean(tf.abs(tf.sub(a, b)));
}
