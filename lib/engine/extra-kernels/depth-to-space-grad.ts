// Gradient of DepthToSpace, which TensorFlow.js 4.22 does not define for any backend.
//
// The decoders upscale by sub-pixel convolution (conv to 4x channels, then depth-to-space), so
// training them needs this gradient. DepthToSpace (NHWC, TensorFlow's DCR order) is a pure
// rearrangement:
//   y[n, h*b + i, w*b + j, c] = x[n, h, w, (i*b + j)*C + c]
// so its gradient is the inverse rearrangement (space-to-depth) of dy, built from reshape and
// transpose, which every backend has.

import * as tf from '@tensorflow/tfjs';
import type { DepthToSpaceAttrs, GradConfig, NamedAttrMap } from '@tensorflow/tfjs';

export function spaceToDepth(dy: tf.Tensor4D, blockSize: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, hb, wb, c] = dy.shape;
    const h = hb / blockSize;
    const w = wb / blockSize;
    return dy
      .reshape([n, h, blockSize, w, blockSize, c])
      .transpose([0, 1, 3, 2, 4, 5])
      .reshape([n, h, w, blockSize * blockSize * c]) as tf.Tensor4D;
  });
}

export const depthToSpaceGradConfig: GradConfig = {
  kernelName: 'DepthToSpace',
  gradFunc: (dy: tf.Tensor | tf.Tensor[], _saved: tf.Tensor[], attrs: NamedAttrMap) => {
    const { blockSize, dataFormat } = attrs as unknown as DepthToSpaceAttrs;
    if (dataFormat !== 'NHWC') throw new Error(`DepthToSpace gradient: only NHWC is supported, got ${dataFormat}`);
    return { x: () => spaceToDepth(dy as tf.Tensor4D, blockSize) };
  },
};
