// One photo: find the faces, decide which to swap (score, size, optionally only person A), swap
// each in turn on a copy of the pixels. Faces are always cut from the original photo.

import type * as tf from '@tensorflow/tfjs';
import type { FaceDetector } from '../faces/detector';
import { descriptorDistance } from '../faces/recognition';
import type { DetectedFace } from '../faces/types';
import { imageToTensor, type RgbImage } from '../util/image';
import { describeFace } from './person';
import { swapFace, type FaceStages, type SwapFaceOptions } from './swap-face';
import type { SwapModel } from './model';

export interface SwapImageOptions extends Omit<SwapFaceOptions, 'stages'> {
  /** Faces the detector scores below this are skipped as "low score". */
  minScore: number;
  /** Faces smaller than this (shorter box side, pixels) are skipped as "too small". */
  minFace: number;
  /** Swap only faces within `threshold` of this identity; null: every face. */
  person: { descriptor: Float32Array; threshold: number } | null;
  stages?: boolean;
}

export interface ImageSwap {
  /** The output pixels (a copy; the input is untouched). */
  image: RgbImage;
  faces: number;
  swapped: number;
  /** Why each face that was not swapped was skipped. */
  skipped: string[];
  /** Per swapped face, when asked for. */
  stages: FaceStages[];
}

async function skipReason(face: DetectedFace, photo: tf.Tensor3D, o: SwapImageOptions): Promise<string | null> {
  if (face.score < o.minScore) return 'low score';
  if (Math.min(face.box.width, face.box.height) < o.minFace) return 'too small';
  if (o.person && descriptorDistance(await describeFace(photo, face.landmarks), o.person.descriptor) >= o.person.threshold) return 'not the person';
  return null;
}

/** Swap the given faces (from a detector, or placed by a test) in `image`. */
export async function swapFaces(image: RgbImage, faces: readonly DetectedFace[], model: SwapModel, options: SwapImageOptions): Promise<ImageSwap> {
  const out: ImageSwap = { image: { ...image, data: Uint8Array.from(image.data) }, faces: faces.length, swapped: 0, skipped: [], stages: [] };
  if (faces.length === 0) return out;
  const photo = imageToTensor(image);
  try {
    for (const face of faces) {
      const reason = await skipReason(face, photo, options);
      if (reason) {
        out.skipped.push(reason);
        continue;
      }
      const r = await swapFace(photo, out.image, face.landmarks, model, options);
      if (!r.box) {
        out.skipped.push('outside the photo');
        continue;
      }
      out.swapped++;
      if (r.stages) out.stages.push(r.stages);
    }
  } finally {
    photo.dispose();
  }
  return out;
}

export async function swapImage(image: RgbImage, detector: FaceDetector, model: SwapModel, options: SwapImageOptions): Promise<ImageSwap> {
  return swapFaces(image, await detector.detect(image), model, options);
}
