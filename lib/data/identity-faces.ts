// One person's faces as training, swapping and scoring all load them: the set split into the faces
// trained on and the ones held out, each face's landmarks in the model's frame, and its mask (the
// landmark hull, or a fixed ellipse where the landmarks are unknown).

import * as tf from '@tensorflow/tfjs';
import { loadCropLandmarks } from '../faces/crop-landmarks';
import { DEFAULT_MASK, faceMask } from '../faces/mask';
import type { Point } from '../faces/types';
import { toFacePixels } from '../util/image';
import { CorruptFile } from '../util/jsonfile';
import { loadFaces, splitHoldout, subset, type FaceSet } from './face-set';

/** One identity's faces, split into the ones trained on and the ones kept for evaluation. */
export interface IdentityFaces {
  train: FaceSet;
  heldOut: FaceSet;
}

/** How a model cuts its faces: the centre share of each crop, and the share held out of training. */
export interface FaceCut {
  cropFraction: number;
  holdout: number;
}

/** Load an identity's folder the way a model with these settings sees it. */
export async function loadIdentityFaces(dir: string, size: number, cut: FaceCut): Promise<IdentityFaces> {
  const all = await loadFaces(dir, { size, cropFraction: cut.cropFraction });
  const split = splitHoldout(all.files, cut.holdout);
  return { train: subset(all, split.train), heldOut: subset(all, split.heldOut) };
}

/**
 * The landmarks of a set's crops (alignments.json, or found once and cached); null, said in one
 * line, when unavailable. A damaged alignments.json throws (CorruptFile, naming it and how to
 * rebuild it): training on ellipse masks, or a warping decoder without landmarks, would waste a run.
 */
export async function faceSetLandmarks(set: FaceSet, log: (line: string) => void): Promise<Map<string, Point[]> | null> {
  try {
    return (await loadCropLandmarks(set.dir, set.files, { log })).byFile;
  } catch (e) {
    if (e instanceof CorruptFile) throw e;
    log(`${set.dir}: landmarks unavailable (${(e as Error).message.split('\n')[0]})`);
    return null;
  }
}

/** Each face's landmarks in the model's input frame (size pixels), or null where unknown. */
export function modelLandmarks(set: FaceSet, cropFraction: number, landmarks: Map<string, Point[]> | null): Array<Point[] | null> {
  return set.files.map((file, i) => {
    const points = landmarks?.get(file);
    return points ? toFacePixels(points, set.sources[i], set.size, cropFraction) : null;
  });
}

/**
 * A soft ellipse over the middle of an aligned face crop (size*size, 1 inside, fading to 0 over 15%
 * of the radius): the face mask of a face whose landmarks are unknown.
 */
export function ellipseMask(size: number): Float32Array {
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const dx = ((x + 0.5) / size - 0.5) / 0.4, dy = ((y + 0.5) / size - 0.55) / 0.45;
      out[y * size + x] = Math.min(1, Math.max(0, (1.15 - Math.sqrt(dx * dx + dy * dy)) / 0.15));
    }
  return out;
}

/** A face's mask, with the landmarks it was drawn from (null: the ellipse) and the feather used. */
export interface SetMask {
  mask: Float32Array;
  landmarks: Point[] | null;
  feather: number;
}

/**
 * The mask of every face of `set`: the landmark hull (lib/faces/mask.ts) in the model's frame,
 * feathered as extraction's masks are at 256 px, scaled to this face's pixels; the ellipse where
 * `landmarks` (each file's 68 points in its source crop's pixels) has none.
 */
export async function setMasks(set: FaceSet, cropFraction: number, landmarks: Map<string, Point[]> | null): Promise<SetMask[]> {
  const size = set.size;
  const ellipse = ellipseMask(size);
  const inFrame = modelLandmarks(set, cropFraction, landmarks);
  const out: SetMask[] = [];
  for (let i = 0; i < set.files.length; i++) {
    const lm = inFrame[i];
    if (!lm) {
      out.push({ mask: ellipse, landmarks: null, feather: 0 });
      continue;
    }
    const scale = size / (Math.min(set.sources[i].width, set.sources[i].height) * cropFraction);
    const feather = Math.max(0.6, DEFAULT_MASK.feather * scale);
    out.push({ mask: await faceMask(lm, size, size, { feather }), landmarks: lm, feather });
  }
  return out;
}

/** The landmark face masks of a set's faces as one tensor [n, s, s, 1] (the ellipse where landmarks are unknown). */
export async function faceMaskTensor(set: FaceSet, cropFraction: number): Promise<tf.Tensor4D> {
  const masks = await setMasks(set, cropFraction, await faceSetLandmarks(set, () => undefined));
  const px = set.size * set.size;
  const data = new Float32Array(masks.length * px);
  masks.forEach((m, i) => data.set(m.mask, i * px));
  return tf.tensor4d(data, [masks.length, set.size, set.size, 1]);
}
