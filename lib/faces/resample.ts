// Resampling a photo through a 2x3 matrix: the aligned crop, and (for swaps) the way back.

import * as tf from '@tensorflow/tfjs';
import { invertMatrix } from './align';
import type { Matrix } from './types';

/**
 * Output pixel grid of `width` x `height` where output point q shows input point M^-1(q).
 * Matrices work in continuous pixel coordinates (a pixel's centre is at i + 0.5, as landmarks
 * are reported); tf.image.transform works on pixel indices, hence the half-pixel shifts.
 * Bilinear; outside the photo the border is mirrored so crops near an edge have no black wedge.
 */
export function warpAffine(image: tf.Tensor3D, m: Matrix, width: number, height = width): tf.Tensor3D {
  return tf.tidy(() => {
    const [[a, b, c], [d, e, f]] = invertMatrix(m);
    // index_in = M^-1(index_out + 0.5) - 0.5
    const transform = tf.tensor2d([[a, b, a * 0.5 + b * 0.5 + c - 0.5, d, e, d * 0.5 + e * 0.5 + f - 0.5, 0, 0]]);
    const batch = image.toFloat().expandDims(0) as tf.Tensor4D;
    return tf.image.transform(batch, transform, 'bilinear', 'reflect', 0, [height, width]).squeeze([0]) as tf.Tensor3D;
  });
}
