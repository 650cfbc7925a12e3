// The swap's blend mask, in the centre square's frame at crop resolution: the landmark face mask
// (lib/faces/mask.ts) eroded and feathered, faded out before the square's edge (the decoded face
// ends there), and multiplied by the decoder's own mask when the model learned one.

import * as tf from '@tensorflow/tfjs';
import { applyMatrixAll } from '../faces/align';
import { faceMask, type MaskOptions } from '../faces/mask';
import type { Point } from '../faces/types';
import type { FaceFrame } from './geometry';

export interface SwapMaskOptions extends Required<MaskOptions> {
  /** Multiply by the decoder's mask channel when the model has one. */
  modelMask: boolean;
}

// Erosion keeps the replaced region off the jaw outline, where the decoded face is blurriest and
// the background behind the cheek shows; a wide feather hides the remaining colour step. The
// forehead is raised less than for training masks: the decoded hairline is rarely right.
export const DEFAULT_SWAP_MASK: SwapMaskOptions = { forehead: 0.1, erode: 6, feather: 12, modelMask: true };

/** Linear fade from 0 on the square's outermost pixels to 1 at `width` pixels inside. */
function edgeFade(side: number, width: number): Float32Array {
  const ramp = (i: number) => Math.min(1, Math.max(0, Math.min(i, side - 1 - i) / Math.max(1, width)));
  const out = new Float32Array(side * side);
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) out[y * side + x] = Math.min(ramp(x), ramp(y));
  return out;
}

/** [side, side, 1] in [0, 1] for a face with these photo landmarks. The caller disposes it. */
export async function swapMask(landmarks: readonly Point[], frame: FaceFrame, modelMask: tf.Tensor3D | null, options: SwapMaskOptions = DEFAULT_SWAP_MASK): Promise<tf.Tensor3D> {
  const { side } = frame;
  const hull = await faceMask(applyMatrixAll(frame.square, landmarks), side, side, options);
  const fade = edgeFade(side, options.feather);
  for (let i = 0; i < hull.length; i++) hull[i] *= fade[i];
  return tf.tidy(() => {
    const mask = tf.tensor3d(hull, [side, side, 1]);
    if (!modelMask || !options.modelMask) return mask;
    return mask.mul(tf.image.resizeBilinear(modelMask, [side, side]).clipByValue(0, 1)) as tf.Tensor3D;
  });
}
