// Landmark error: do pose and expression survive the swap? The 68 landmarks of a swapped face
// against those of its source face, over the source's inter-ocular distance. face-api's landmark
// net runs straight on the face crops (detectors miss faces cropped this tightly).

import * as tf from '@tensorflow/tfjs';
import { cropLandmarks } from '../faces/recognition';
import { eyeCentres } from '../faces/template';

/** `fn` on every face of a batch, one at a time (each face a fresh 3-D tensor, disposed after). */
export async function eachFace<T>(faces: tf.Tensor4D, fn: (face: tf.Tensor3D) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < faces.shape[0]; i++) {
    const face = tf.tidy(() => faces.slice([i, 0, 0, 0], [1, -1, -1, 3]).squeeze([0]) as tf.Tensor3D);
    try {
      out.push(await fn(face));
    } finally {
      face.dispose();
    }
  }
  return out;
}

/** Mean landmark distance between pairs of faces over the first face's inter-ocular distance. */
export async function landmarkError(sources: tf.Tensor4D, swaps: tf.Tensor4D): Promise<number> {
  const a = await eachFace(sources, cropLandmarks);
  const b = await eachFace(swaps, cropLandmarks);
  let total = 0;
  for (let i = 0; i < a.length; i++) {
    const [l, r] = eyeCentres(a[i]);
    const iod = Math.max(1e-6, Math.hypot(r[0] - l[0], r[1] - l[1]));
    total += a[i].reduce((s, p, k) => s + Math.hypot(p[0] - b[i][k][0], p[1] - b[i][k][1]), 0) / 68 / iod;
  }
  return total / a.length;
}
