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
 * Rows per convolution call. tfjs-backend-webgpu 4.22 cannot dispatch one convolution over a
 * whole photo (1920x1280 needs more than the 65,535 workgroups WebGPU allows in one dimension):
 * about a million pixels a call fits.
 */
function stripRows(width: number): number {
  return Math.max(1, Math.floor(1_000_000 / width));
}

/**
 * Edge strength of an RGB image [h, w, 3] in [0, 1], as a grey RGB image of the same size.
 * Scaled so that four times the average edge strength is white: a few strong edges would
 * otherwise leave everything else black. A conv2d with the Sobel filters: the operation every
 * layer of the autoencoder is made of (on big photos one call per strip of rows, for WebGPU).
 */
export function edgeMagnitude(image: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const [h, w] = image.shape;
    const grey = image.mean(2, true).expandDims(0) as tf.Tensor4D; // [1, h, w, 1]
    // Mirror the border instead of padding with zeros, which would draw a frame of false edges.
    const padded = tf.mirrorPad(grey, [[0, 0], [1, 1], [1, 1], [0, 0]], 'symmetric');
    const filter = sobelFilter(), rows = stripRows(w);
    const strips: tf.Tensor4D[] = [];
    // Each strip of output rows needs one padded row more above and below.
    for (let top = 0; top < h; top += rows)
      strips.push(tf.conv2d(padded.slice([0, top, 0, 0], [1, Math.min(rows, h - top) + 2, w + 2, 1]), filter, 1, 'valid'));
    const g = strips.length === 1 ? strips[0]! : tf.concat(strips, 1); // [1, h, w, 2]: change along x and y
    const magnitude = g.square().sum(3, true).sqrt();
    const scaled = magnitude.div(magnitude.mean().mul(4).add(1e-6)).clipByValue(0, 1);
    return tf.tile(scaled, [1, 1, 1, 3]).squeeze([0]) as tf.Tensor3D;
  });
}
