// FaceDetector on face-api: SSD MobileNet v1 (run with fused layers, ssd-fused.ts) or the Tiny Face
// Detector, then the 68-point landmark net (fused layers, landmarks-fused.ts) on all of a photo's
// faces as one batch.

import * as tf from '@tensorflow/tfjs';
import { pixelTensor, type RgbImage } from '../util/image';
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
 * The detections face-api can cut out of the photo, each with its landmarks in photo pixels, as
 * withFaceLandmarks() gives them: each face cut along its box (clipped to the photo), the net's
 * points shifted back by the box's corner. A box with nothing left inside the photo is dropped
 * (face-api's cut skips it, and its task then drops a face). One forward pass for all of the
 * photo's faces (4 faces took about half the time of 4 passes), with fused layers
 * (landmarks-fused.ts).
 */
export async function withLandmarks(api: FaceApi, input: tf.Tensor3D, detections: FaceDetection[]): Promise<Array<{ detection: FaceDetection; points: Point[] }>> {
  const [height, width] = input.shape;
  const cuttable = detections.filter((d) => {
    const box = d.forSize(width, height).box.clipAtImageBorders(width, height);
    return box.width > 0 && box.height > 0;
  });
  if (cuttable.length === 0) return [];
  const faces = await api.extractFaceTensors(input as unknown as FaceApiTensor, cuttable);
  try {
    const found = await cropLandmarksBatch(api, faces as unknown as tf.Tensor3D[]);
    return found.map((points, i) => {
      const detection = cuttable[i]!;
      const { x, y } = detection.box;
      return { detection, points: points.map(([px, py]): Point => [px + x, py + y]) };
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
        const found = await withLandmarks(api, input, await locate(input));
        return found.map(({ detection: d, points }) => ({
          box: { x: d.box.x, y: d.box.y, width: d.box.width, height: d.box.height },
          score: d.score,
          landmarks: points,
          detector: opts.kind,
        }));
      } finally {
        if (input !== pixels) input.dispose();
      }
    }),
  };
}
