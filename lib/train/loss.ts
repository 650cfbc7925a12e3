// The reconstruction loss. MAE (L1) as in the original: it keeps edges sharper than MSE. Options,
// each used by faceswap or DeepFaceLab by default:
// - an SSIM term, (1 - SSIM) x weight: structure (edges, texture) rather than per-pixel error, the
//   strongest cure for the blur an L1 loss settles into;
// - weighting each pixel's error by the face mask drawn from its landmarks, so the decoder spends
//   its capacity on the face (what the swap pastes back) rather than hair and background;
// - extra weight on the eyes and the mouth: what a face is recognised by.
// With a mask channel the model also learns to paint the mask itself.
// The per-pixel weights come with the batch (lib/train/face-maps.ts draws them per face).

import * as tf from '@tensorflow/tfjs';
import { meanAbsoluteError } from '../engine/extra-kernels/l1-loss';
import { ssimMap } from '../metrics/pixel-metrics';
import type { Batch } from './batches';
import type { LossOptions } from './settings-schema';

// Declared once, as a schema: lib/train/settings-schema.ts.
export type { LossOptions } from './settings-schema';

export const DEFAULT_LOSS: LossOptions = { ssimWeight: 0, maskWeighted: false, background: 0, eyeWeight: 0, mouthWeight: 0 };

/** Whether the loss needs per-face maps (masks and weights) with every batch. */
export function lossNeedsMaps(o: LossOptions): boolean {
  return o.maskWeighted || o.eyeWeight > 0 || o.mouthWeight > 0;
}

/** Loss of one decoder's output [n, s, s, 3 or 4] against a batch (a decoder kind may add a term of its own: step.ts). */
export function faceLoss(output: tf.Tensor4D, batch: Batch, options: LossOptions): tf.Scalar {
  return tf.tidy(() => {
    const hasMaskChannel = output.shape[3] === 4;
    const rgb = (hasMaskChannel ? output.slice([0, 0, 0, 0], [-1, -1, -1, 3]) : output) as tf.Tensor4D;
    const weight = lossNeedsMaps(options) ? batch.weight : undefined;
    if (lossNeedsMaps(options) && !weight) throw new Error('the loss weights pixels but the batch has no weight map');
    // Normalised by the mean weight, so the loss stays on the same scale with or without it.
    let loss: tf.Scalar = weight
      ? (rgb.sub(batch.target).abs().mul(weight).mean().div(weight.mean().add(1e-6)) as tf.Scalar)
      : meanAbsoluteError(rgb, batch.target);
    if (options.ssimWeight > 0) {
      // SSIM compares structure, not weights: on the masked face (background faded by its weight).
      const m = options.maskWeighted && batch.mask3 ? batch.mask3.mul(1 - options.background).add(options.background) : undefined;
      const [a, b] = m ? [rgb.mul(m) as tf.Tensor4D, batch.target.mul(m) as tf.Tensor4D] : [rgb, batch.target];
      loss = loss.add(tf.scalar(1).sub(ssimMap(a, b).mean()).mul(options.ssimWeight));
    }
    if (hasMaskChannel) {
      if (!batch.mask) throw new Error('the model has a mask channel but the batch has no mask target');
      loss = loss.add(meanAbsoluteError(output.slice([0, 0, 0, 3], [-1, -1, -1, 1]), batch.mask));
    }
    return loss;
  });
}
