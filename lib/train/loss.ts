// The reconstruction loss. MAE (L1) by default, as in the original: it keeps edges sharper than
// MSE. Optional extras: an SSIM term (structure rather than per-pixel error) and weighting the
// error by the face mask (the background matters less). With a mask channel, the model also
// learns to paint the mask itself.

import * as tf from '@tensorflow/tfjs';
import { ssim } from '../metrics';
import type { Batch } from './batches';

export interface LossOptions {
  /** Weight of (1 - SSIM) added to the L1 term. 0: off. */
  ssimWeight: number;
  /** Weight each pixel's error by the target face mask. */
  maskWeighted: boolean;
}

export const DEFAULT_LOSS: LossOptions = { ssimWeight: 0, maskWeighted: false };

/** Loss of one decoder's output [n, s, s, 3 or 4] against a batch. */
export function faceLoss(output: tf.Tensor4D, batch: Batch, options: LossOptions): tf.Scalar {
  return tf.tidy(() => {
    const hasMaskChannel = output.shape[3] === 4;
    const rgb = (hasMaskChannel ? output.slice([0, 0, 0, 0], [-1, -1, -1, 3]) : output) as tf.Tensor4D;
    const weight = options.maskWeighted ? batch.mask : undefined;
    const err = rgb.sub(batch.target).abs();
    // Normalised by the mean weight, so the loss stays on the same scale with or without it.
    let loss: tf.Scalar = weight ? (err.mul(weight).mean().div(weight.mean().add(1e-6)) as tf.Scalar) : (err.mean() as tf.Scalar);
    if (options.ssimWeight > 0) {
      const [a, b] = weight ? [rgb.mul(weight) as tf.Tensor4D, batch.target.mul(weight) as tf.Tensor4D] : [rgb, batch.target];
      loss = loss.add(tf.scalar(1).sub(ssim(a, b).mean()).mul(options.ssimWeight));
    }
    if (hasMaskChannel) {
      if (!batch.mask) throw new Error('the model has a mask channel but the batch has no mask target');
      loss = loss.add(output.slice([0, 0, 0, 3], [-1, -1, -1, 1]).sub(batch.mask).abs().mean());
    }
    return loss;
  });
}
