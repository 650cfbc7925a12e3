// Per-face maps for training, drawn once when a session opens: each face's mask (lib/data/identity-faces.ts),
// its loss weights (the mask, the background weight, and extra weight on eyes and mouth), and the
// decoder kind's own maps when it has any. The augmentation moves them with the target.
// Faces whose landmarks are unknown get the fixed ellipse and no eye or mouth weights.

import { featureMasks } from '../faces/mask';
import type { Point } from '../faces/types';
import type { FaceMaps } from './batches';
import type { FaceSet } from '../data/face-set';
import { setMasks } from '../data/identity-faces';
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
 * pixels (an aligned crop); null or a missing file means the ellipse. `extra` draws the decoder
 * kind's own maps from the faces' masks (DecoderKind.faceMaps).
 */
export async function faceMaps(set: FaceSet, cropFraction: number, landmarks: Map<string, Point[]> | null, loss: LossOptions, extra?: (masks: Float32Array[]) => Promise<Array<Record<string, Float32Array> | null>>): Promise<{ maps: FaceMaps[]; ellipses: number }> {
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
    maps.push({ mask, weight: lossWeights(mask, features, loss) });
  }
  if (extra) (await extra(maps.map((m) => m.mask))).forEach((e, i) => e && (maps[i]!.extra = e));
  return { maps, ellipses };
}
