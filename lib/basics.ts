// Small tensor demonstrations for the first notebook: a convolution is a filter slid over an image.

import * as tf from '@tensorflow/tfjs';

/** Sobel filters for horizontal and vertical change, as one conv2d filter [3, 3, 1, 2]. */
export function sobelFilter(): tf.Tensor4D {
  const gx = [-1, 0, 1, -2, 0, 2, -1, 0, 1];
  const gy = [-1, -2, -1, 0, 0, 0, 1, 2, 1];
  const values = gx.flatMap((v, i) => [v, gy[i]]);
  return tf.tensor4d(values, [3, 3, 1, 2]);
}

/**
 * Edge strength of an RGB image [h, w, 3] in [0, 1], as a grey RGB image of the same size.
 * Scaled so that four times the average edge strength is white: a few strong edges would
 * otherwise leave everything else black. One conv2d call: the operation every layer of the autoencoder is made of.
 */
export function edgeMagnitude(image: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const grey = image.mean(2, true).expandDims(0) as tf.Tensor4D; // [1, h, w, 1]
    // Mirror the border instead of padding with zeros, which would draw a frame of false edges.
    const padded = tf.mirrorPad(grey, [[0, 0], [1, 1], [1, 1], [0, 0]], 'symmetric');
    const g = tf.conv2d(padded, sobelFilter(), 1, 'valid'); // [1, h, w, 2]: change along x and y
    const magnitude = g.square().sum(3, true).sqrt();
    const scaled = magnitude.div(magnitude.mean().mul(4).add(1e-6)).clipByValue(0, 1);
    return tf.tile(scaled, [1, 1, 1, 3]).squeeze([0]) as tf.Tensor3D;
  });
}
