// face-api's recognition net (128-number face descriptors) and its landmark net, run directly on
// aligned crops. Detectors miss tightly cropped faces, so nothing here detects first.

import * as tf from '@tensorflow/tfjs';
import { faceApi, onFaceBackend } from './faceapi';
import type { Point } from './types';

/** Side of the face crops the recognition net expects. */
export const DESCRIPTOR_INPUT = 150;

// face-api's nets take pixel values 0-255; the project's image tensors hold 0-1.

/**
 * A crop handed to face-api's backend as plain numbers, read asynchronously: that backend may be
 * another engine than the crop's, and moving a tensor between engines reads it synchronously,
 * which the webgpu backend cannot do in Node.js. Returns a maker for the tensor on the current one.
 */
async function plain(crop: tf.Tensor3D): Promise<() => tf.Tensor3D> {
  const values = (await crop.data()) as Float32Array;
  return () => tf.tensor3d(values, crop.shape, 'float32');
}

/** Descriptor of one face crop ([h, w, 3] in [0, 1]; resized to 150x150 here). */
export async function faceDescriptor(crop: tf.Tensor3D): Promise<Float32Array> {
  return (await faceDescriptors([crop]))[0]!;
}

/**
 * Descriptors of several face crops, through the net as one batch: a photo's faces at once. Its
 * convolutions work on 75 px down to 5 px, where one face at a time leaves oneDNN little to do
 * in parallel.
 */
export async function faceDescriptors(crops: readonly tf.Tensor3D[]): Promise<Float32Array[]> {
  // Batches of at most 16: a crowd photo's faces at once would hold hundreds of MB of activations.
  if (crops.length > 16) return [...(await faceDescriptors(crops.slice(0, 16))), ...(await faceDescriptors(crops.slice(16)))];
  if (crops.length === 0) return [];
  const api = await faceApi('faceRecognitionNet');
  const pixels = await Promise.all(crops.map(plain));
  return onFaceBackend(async () => {
    const inputs = pixels.map((p) => tf.tidy(() => tf.image.resizeBilinear(p().mul(255) as tf.Tensor3D, [DESCRIPTOR_INPUT, DESCRIPTOR_INPUT])));
    try {
      // An array input is a batch to face-api, and it answers with one descriptor per entry.
      return (await api.computeFaceDescriptor(inputs)) as Float32Array[];
    } finally {
      tf.dispose(inputs);
    }
  });
}

/** The 68 landmarks of a face crop ([h, w, 3] in [0, 1]), in the crop's pixels, without a detector. */
export async function cropLandmarks(crop: tf.Tensor3D): Promise<Point[]> {
  const api = await faceApi('faceLandmark68Net');
  const [h, w] = crop.shape;
  const pixels = await plain(crop);
  return onFaceBackend(async () => {
    const input = tf.tidy(() => pixels().mul(255));
    try {
      const result = (await api.nets.faceLandmark68Net.detectLandmarks(input as tf.Tensor3D)) as { positions: Array<{ x: number; y: number }> };
      // face-api reports positions in the input's pixels (it pads to a square internally and maps back).
      return result.positions.map((p): Point => [Math.min(w, Math.max(0, p.x)), Math.min(h, Math.max(0, p.y))]);
    } finally {
      input.dispose();
    }
  });
}

export function descriptorDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

export function meanDescriptor(ds: ReadonlyArray<ArrayLike<number>>): Float32Array {
  const out = new Float32Array(ds[0].length);
  for (const d of ds) for (let i = 0; i < out.length; i++) out[i] += d[i] / ds.length;
  return out;
}
