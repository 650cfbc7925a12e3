// The detection stage: find faces and their 68 landmarks in a photo.
// One interface; implementations live in their own files (faceapi-detector.ts).

import type * as tf from '@tensorflow/tfjs';
import type { RgbImage } from '../util/image';
import type { DetectedFace } from './types';

export type DetectorKind = 'ssd' | 'tiny';

export interface DetectorOptions {
  /** 'ssd' (SSD MobileNet v1, accurate) or 'tiny' (Tiny Face Detector, about 2x faster). */
  kind?: DetectorKind;
  /** Faces scored below this are not reported at all. The extraction's own score filter sits above it. */
  minScore?: number;
  /** Tiny detector input size (multiple of 32): larger finds smaller faces, slower. */
  tinyInputSize?: number;
}

export const DEFAULT_DETECTOR: Required<DetectorOptions> = { kind: 'ssd', minScore: 0.3, tinyInputSize: 416 };

export interface FaceDetector {
  readonly name: string;
  /**
   * Faces in the photo, with landmarks in its pixels. `pixels`: the same photo as a [h, w, 3]
   * float32 tensor of 0-255 (pixelTensor) on face-api's backend, when the caller already holds
   * one; the detector then reads that instead of making its own copy.
   */
  detect(image: RgbImage, pixels?: tf.Tensor3D): Promise<DetectedFace[]>;
}

/** The faces largest first (box area): the one a photo is about comes first. */
export function largestFirst(faces: readonly DetectedFace[]): DetectedFace[] {
  return [...faces].sort((p, q) => q.box.width * q.box.height - p.box.width * p.box.height);
}
