// Two detectors in a row: the second runs only on photos where the first finds no face it is
// sure of. SSD MobileNet misses or under-scores about 7% of LFW's news photos (small, dark or
// turned faces) that the Tiny Face Detector finds with scores above 0.9, while on face-api's own
// photos SSD is the more complete of the two; the cascade keeps SSD's results where it is sure
// and costs a second pass only on its misses.

import type * as tf from '@tensorflow/tfjs';
import type { RgbImage } from '../util/image';
import type { FaceDetector } from './detector';
import type { DetectedFace } from './types';

export function cascadeDetector(first: FaceDetector, second: FaceDetector, sureScore: number): FaceDetector {
  return {
    name: `${first.name}, then ${second.name} when unsure`,
    async detect(image: RgbImage, pixels?: tf.Tensor3D): Promise<DetectedFace[]> {
      const faces = await first.detect(image, pixels);
      if (faces.some((f) => f.score >= sureScore)) return faces;
      const more = await second.detect(image, pixels);
      return more.some((f) => f.score >= sureScore) ? more : faces;
    },
  };
}
