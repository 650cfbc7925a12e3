// Per-face maps for training, drawn once when a session opens: each face's mask (lib/data/identity-faces.ts)
// and its loss weights (the mask, the background
// weight, and extra weight on eyes and mouth). The augmentation moves them with the target.
// Faces whose landmarks are unknown get the fixed ellipse and no eye or mouth weights.

import { featureMasks } from '../faces/mask';
import type { Point } from '../faces/types';
import type { FaceMaps } from './batches';
import type { FaceSet } from '../data/face-set';
import { setMasks } from '../data/identity-faces';
import type { LossOptions } from './loss';
import { textureCoordinates } from './texture-coords';

/** A warping decoder's texture as the maps need it: its landmarks, in texture pixels, and its side. */
export interface TextureFrame {
  landmarks: Point[];
  size: number;
}

/**
 * How much the pull towards the landmarks' texture coordinates counts at each pixel: fully on the
 * face, a fifth elsewhere. Outside the landmarks the coordinates are a guess (the frame stays put),
 * but without any pull there the decoder's flow wanders and smears the background (seen: a second
 * mouth on a cheek).
 */
export function coordinateWeights(mask: Float32Array, outside = 0.2): Float32Array {
  return mask.map((m) => outside + (1 - outside) * m);
}

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
 * pixels (an aligned crop); null or a missing file means the ellipse. With a warping decoder's
 * `texture`, faces with landmarks also get their texture coordinates.
 */
export async function faceMaps(set: FaceSet, cropFraction: number, landmarks: Map<string, Point[]> | null, loss: LossOptions, texture?: TextureFrame): Promise<{ maps: FaceMaps[]; ellipses: number }> {
  const size = set.size;
  const maps: FaceMaps[] = [];
  let ellipses = 0;
  for (const { mask, landmarks: lm, feather } of await setMasks(set, cropFraction, landmarks)) {
    if (!lm) {
      ellipses++;
      maps.push({ mask, weight: lossWeights(mask, null, loss) });
      continue;
    }
    const features = loss.eyeWeight > 0 || loss.mouthWeight > 0 ? await featureMasks(lm, size, size, feather) : null;
    const coords = texture ? { ...textureCoordinates(lm, texture.landmarks, size, texture.size), uvWeight: coordinateWeights(mask) } : undefined;
    maps.push({ mask, weight: lossWeights(mask, features, loss), ...coords });
  }
  return { maps, ellipses };
}
