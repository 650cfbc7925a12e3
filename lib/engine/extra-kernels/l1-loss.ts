// The L1 loss, mean |a - b|, the reconstruction loss of every recipe. TensorFlow.js runs it as Sub,
// Abs and Mean, and its gradient as five kernels over the whole output plus an array of ones filled
// in JavaScript (Mean's), for each decoder on every step. On the native backend the loss is one
// kernel and its gradient another, the gradient equal to the bit to TensorFlow.js's chain; every
// other backend keeps the three ops.

import * as tf from '@tensorflow/tfjs';
import { NATIVE_BACKEND } from '../native/native-backend';
import { L1_MEAN, L1_MEAN_GRAD } from '../native/kernels';

/**
 * The gradient of the loss kernel. TensorFlow.js asks for each input's separately, so the target's
 * (never needed in training) is never computed.
 */
const l1MeanGradConfig: tf.GradConfig = {
  kernelName: L1_MEAN,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
    const [a, b] = saved as [tf.Tensor, tf.Tensor];
    const da = () => tf.engine().runKernel(L1_MEAN_GRAD, { a, b, dy: dy as tf.Tensor }, {}) as tf.Tensor;
    return { a: da, b: () => tf.neg(da()) };
  },
};

/** mean |a - b| over every element; a and b of one shape. */
export function meanAbsoluteError(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  const native = tf.getBackend() === NATIVE_BACKEND && tf.getKernel(L1_MEAN, NATIVE_BACKEND) && tf.getKernel(L1_MEAN_GRAD, NATIVE_BACKEND);
  if (native && a.dtype === 'float32' && b.dtype === 'float32' && a.size > 0 && tf.util.arraysEqual(a.shape, b.shape)) {
    if (!tf.getGradient(L1_MEAN)) tf.registerGradient(l1MeanGradConfig);
    return tf.engine().runKernel(L1_MEAN, { a, b }, {}) as tf.Scalar;
  }
  return tf.mean(tf.abs(tf.sub(a, b)));
}
