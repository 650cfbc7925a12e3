// FaceDetector on face-api: SSD MobileNet v1 or the Tiny Face Detector, then the 68-point
// landmark net on each face.

import type * as tf from '@tensorflow/tfjs';
import { pixelTensor, type RgbImage } from '../image';
import { DEFAULT_DETECTOR, type DetectorOptions, type FaceDetector } from './detector';
import { faceApi, onFaceBackend } from './faceapi';
import type { DetectedFace, Point } from './types';

export async function createFaceApiDetector(options: DetectorOptions = {}): Promise<FaceDetector> {
  const opts = { ...DEFAULT_DETECTOR, ...options };
  const net = opts.kind === 'ssd' ? 'ssdMobilenetv1' : 'tinyFaceDetector';
  const api = await faceApi(net, 'faceLandmark68Net');
  const detectorOptions =
    opts.kind === 'ssd'
      ? new api.SsdMobilenetv1Options({ minConfidence: opts.minScore, maxResults: 100 })
      : new api.TinyFaceDetectorOptions({ inputSize: opts.tinyInputSize, scoreThreshold: opts.minScore });

  return {
    name: `face-api ${opts.kind}`,
    detect: (image: RgbImage, pixels?: tf.Tensor3D): Promise<DetectedFace[]> => onFaceBackend(async () => {
      const input = pixels ?? pixelTensor(image);
      try {
        const found = await api.detectAllFaces(input, detectorOptions).withFaceLandmarks();
        return found.map((f) => ({
          box: { x: f.detection.box.x, y: f.detection.box.y, width: f.detection.box.width, height: f.detection.box.height },
          score: f.detection.score,
          landmarks: f.landmarks.positions.map((p): Point => [p.x, p.y]),
          detector: opts.kind,
        }));
      } finally {
        if (input !== pixels) input.dispose();
      }
    }),
  };
}
