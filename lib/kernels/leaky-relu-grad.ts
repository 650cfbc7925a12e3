// LeakyRelu's gradient, dy where x > 0 and alpha * dy elsewhere. TensorFlow.js computes it as
// Greater + Multiply + Select: three passes over every activation of the step and two
// temporaries, about 8 of the 147 ms of a lite step on native. On the native backend it is one
// compiled kernel; every other backend keeps TensorFlow.js's own formula, op for op.

import * as tf from '@tensorflow/tfjs';
import type { GradConfig, LeakyReluAttrs, NamedAttrMap } from '@tensorflow/tfjs';
import { NATIVE_BACKEND } from '../native/backend';
import { LEAKY_RELU_GRAD } from '../native/kernels';

export const leakyReluGradConfig: GradConfig = {
  kernelName: 'LeakyRelu',
  inputsToSave: ['x'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
    const [x] = saved;
    const g = dy as tf.Tensor;
    const { alpha } = attrs as unknown as LeakyReluAttrs;
    // (DEEPFAKE_NATIVE_OFF=DeepfakeLeakyReluGrad unregisters the kernel: then the formula runs.)
    if (tf.getBackend() === NATIVE_BACKEND && tf.getKernel(LEAKY_RELU_GRAD, NATIVE_BACKEND) && tf.util.arraysEqual(g.shape, x.shape))
      return { x: () => tf.engine().runKernel(LEAKY_RELU_GRAD, { dy: g, x }, { alpha } as unknown as NamedAttrMap) as tf.Tensor };
    return { x: () => tf.where(tf.greater(x, 0), g, tf.mul(g, alpha)) };
  },
};
