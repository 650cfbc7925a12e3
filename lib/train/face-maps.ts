// Per-face maps for training, drawn once when a session opens: each face's mask (the landmark hull
// of lib/faces/mask.ts, in the model's input frame) and its loss weights (the mask, the background
// weight, and extra weight on eyes and mouth). The augmentation moves them with the target.
// Faces whose landmarks are unknown get the fixed ellipse and no eye or mouth weights.

import { featureMasks, faceMask, DEFAULT_MASK } from '../faces/mask';
import type { Point } from '../faces/types';
import { ellipseMask } from './augment';
import type { FaceMaps } from './batches';
import { toFacePixels } from '../image';
import type { FaceSet } from './faces';
import type { LossOptions } from './loss';

/** The loss weight of each pixel from its face mask and feature masks (size*size each). */
export function lossWeights(mask: Float32Array, features: { eyes: Float32Array; mouth: Float32Array } | null, loss: LossOptions): Float32Array {
  const out = new Float32Array(mask.length);
  const bg = loss.background;
  for (let i = 0; i < out.length; i++) {
    const region = loss.maskWeighted ? bg + (1 - bg) * mask[i] : 1;
    const extra = features ? 1 + loss.eyeWeight * features.eyes[i] + loss.mouthWeight * features.mouth[i] : 1;
    out[i] = region * extra;
  }
  return out;
}

/**
 * Maps for every face of `set`. `landmarks` gives each file's 68 points in its source image's
 * pixels (an aligned crop); null or a missing file means the ellipse.
 */
export async function faceMaps(set: FaceSet, cropFraction: number, landmarks: Map<string, Point[]> | null, loss: LossOptions): Promise<{ maps: FaceMaps[]; ellipses: number }> {
  const size = set.size;
  const ellipse = ellipseMask(size);
  const maps: FaceMaps[] = [];
  let ellipses = 0;
  for (let i = 0; i < set.files.length; i++) {
    const points = landmarks?.get(set.files[i]);
    if (!points) {
      ellipses++;
      maps.push({ mask: ellipse, weight: lossWeights(ellipse, null, loss) });
      continue;
    }
    const lm = toFacePixels(points, set.sources[i], size, cropFraction);
    // Feathered as extraction's masks are at 256 px, scaled to this face's pixels.
    const scale = size / (Math.min(set.sources[i].width, set.sources[i].height) * cropFraction);
    const feather = Math.max(0.6, DEFAULT_MASK.feather * scale);
    const mask = await faceMask(lm, size, size, { feather });
    const features = loss.eyeWeight > 0 || loss.mouthWeight > 0 ? await featureMasks(lm, size, size, feather) : null;
    maps.push({ mask, weight: lossWeights(mask, features, loss) });
  }
  return { maps, ellipses };
}
