// Per-face maps for training, drawn once when a session opens: each face's mask (the landmark hull
// of lib/faces/mask.ts, in the model's input frame) and its loss weights (the mask, the background
// weight, and extra weight on eyes and mouth). The augmentation moves them with the target.
// Faces whose landmarks are unknown get the fixed ellipse and no eye or mouth weights.

import { featureMasks, faceMask, DEFAULT_MASK } from '../faces/mask';
import type { Point } from '../faces/types';
import { ellipseMask } from './augment';
import type { FaceMaps } from './batches';
import { toFacePixels } from '../util/image';
import type { FaceSet } from './faces';
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

/** Each face's landmarks in the model's input frame (size pixels), or null where unknown. */
export function modelLandmarks(set: FaceSet, cropFraction: number, landmarks: Map<string, Point[]> | null): Array<Point[] | null> {
  return set.files.map((file, i) => {
    const points = landmarks?.get(file);
    return points ? toFacePixels(points, set.sources[i], set.size, cropFraction) : null;
  });
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
  const ellipse = ellipseMask(size);
  const maps: FaceMaps[] = [];
  let ellipses = 0;
  const inFrame = modelLandmarks(set, cropFraction, landmarks);
  for (let i = 0; i < set.files.length; i++) {
    const lm = inFrame[i];
    if (!lm) {
      ellipses++;
      maps.push({ mask: ellipse, weight: lossWeights(ellipse, null, loss) });
      continue;
    }
    // Feathered as extraction's masks are at 256 px, scaled to this face's pixels.
    const scale = size / (Math.min(set.sources[i].width, set.sources[i].height) * cropFraction);
    const feather = Math.max(0.6, DEFAULT_MASK.feather * scale);
    const mask = await faceMask(lm, size, size, { feather });
    const features = loss.eyeWeight > 0 || loss.mouthWeight > 0 ? await featureMasks(lm, size, size, feather) : null;
    const coords = texture ? { ...textureCoordinates(lm, texture.landmarks, size, texture.size), uvWeight: coordinateWeights(mask) } : undefined;
    maps.push({ mask, weight: lossWeights(mask, features, loss), ...coords });
  }
  return { maps, ellipses };
}
