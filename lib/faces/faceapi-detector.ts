// FaceDetector on face-api: SSD MobileNet v1 (run with fused layers, ssd-fused.ts) or the Tiny Face
// Detector, then the 68-point landmark net (fused layers, landmarks-fused.ts) on all of a photo's
// faces as one batch.

import * as tf from '@tensorflow/tfjs';
import { pixelTensor, type RgbImage } from '../image';
import { DEFAULT_DETECTOR, type DetectorOptions, type FaceDetector } from './detector';
import { faceApi, onFaceBackend, type FaceApi } from './faceapi';
import { cropLandmarksBatch } from './landmarks-fused';
import { locateFaces } from './ssd-fused';
import type { DetectedFace, Point } from './types';

type FaceDetection = InstanceType<FaceApi['FaceDetection']>;
// face-api declares its tensors with its bundled copy of the TensorFlow.js types; at run time they
// are tensors of the one engine this program uses.
type FaceApiTensor = Parameters<FaceApi['extractFaceTensors']>[0];

/**
 * Landmarks for each detection, in photo pixels, as face-api's withFaceLandmarks() gives them: each
 * face cut out of the photo along its box (clipped to the photo), the net's points shifted back by
 * the box's corner. One forward pass for all of the photo's faces (4 faces took about half the
 * time of 4 passes), with fused layers (landmarks-fused.ts).
 */
async function landmarks(api: FaceApi, input: tf.Tensor3D, detections: FaceDetection[]): Promise<Point[][]> {
  if (detections.length === 0) return [];
  const faces = await api.extractFaceTensors(input as unknown as FaceApiTensor, detections);
  try {
    const found = await cropLandmarksBatch(api, faces as unknown as tf.Tensor3D[]);
    return found.map((points, i) => {
      const { x, y } = detections[i]!.box;
      return points.map(([px, py]): Point => [px + x, py + y]);
    });
  } finally {
    tf.dispose(faces as unknown as tf.Tensor[]);
  }
}

export async function createFaceApiDetector(options: DetectorOptions = {}): Promise<FaceDetector> {
  const opts = { ...DEFAULT_DETECTOR, ...options };
  const net = opts.kind === 'ssd' ? 'ssdMobilenetv1' : 'tinyFaceDetector';
  const api = await faceApi(net, 'faceLandmark68Net');
  const tinyOptions = new api.TinyFaceDetectorOptions({ inputSize: opts.tinyInputSize, scoreThreshold: opts.minScore });
  const locate = (input: tf.Tensor3D): Promise<FaceDetection[]> =>
    opts.kind === 'ssd'
      ? locateFaces(api, input, { minConfidence: opts.minScore, maxResults: 100 })
      : api.nets.tinyFaceDetector.locateFaces(input, tinyOptions);

  return {
    name: `face-api ${opts.kind}`,
    detect: (image: RgbImage, pixels?: tf.Tensor3D): Promise<DetectedFace[]> => onFaceBackend(async () => {
      const input = pixels ?? pixelTensor(image);
      try {
        const detections = await locate(input);
        const points = await landmarks(api, input, detections);
        return detections.map((d, i) => ({
          box: { x: d.box.x, y: d.box.y, width: d.box.width, height: d.box.height },
          score: d.score,
          landmarks: points[i]!,
          detector: opts.kind,
        }));
      } finally {
        if (input !== pixels) input.dispose();
      }
    }),
  };
}
