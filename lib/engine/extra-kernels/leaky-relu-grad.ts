// LeakyRelu's gradient, dy where x > 0 and alpha * dy elsewhere. TensorFlow.js computes it as
// Greater + Multiply + Select: three passes over every activation of the step and two
// temporaries, about 8 of the 147 ms of a lite step on native. On the native backend it is one
// compiled kernel; every other backend keeps TensorFlow.js's own formula, op for op.

import * as tf from '@tensorflow/tfjs';
import type { GradConfig, LeakyReluAttrs, NamedAttrMap } from '@tensorflow/tfjs';
import { NATIVE_BACKEND } from '../native/native-backend';
import { LEAKY_RELU_GRAD } from '../native/kernels';

/**
 * dy where x > 0, alpha * dy elsewhere: one compiled kernel on native (unless
 * DEEPFAKE_NATIVE_OFF=DeepfakeLeakyReluGrad unregistered it), TensorFlow.js's formula elsewhere.
 * For alpha > 0 the activation's output may stand in for x: its sign is the same.
 */
export function leakyReluBackward<T extends tf.Tensor>(dy: T, x: T, alpha: number): T {
  if (tf.getBackend() === NATIVE_BACKEND && tf.getKernel(LEAKY_RELU_GRAD, NATIVE_BACKEND) && tf.util.arraysEqual(dy.shape, x.shape))
    return tf.engine().runKernel(LEAKY_RELU_GRAD, { dy, x }, { alpha } as unknown as NamedAttrMap) as T;
  return tf.where(tf.greater(x, 0), dy, tf.mul(dy, alpha)) as T;
}

export const leakyReluGradConfig: GradConfig = {
  kernelName: 'LeakyRelu',
  inputsToSave: ['x'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
    const [x] = saved;
    const { alpha } = attrs as unknown as LeakyReluAttrs;
    return { x: () => leakyReluBackward(dy as tf.Tensor, x, alpha) };
  },
};
