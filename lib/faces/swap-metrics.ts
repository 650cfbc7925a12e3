// The swap metrics of ../shared/docs/architecture.md, on face-api's nets run straight on the
// model-sized face crops (detectors miss such tight crops, so nothing detects first):
//
// - identity transfer: the share of A->B swaps whose recognition descriptor lies closer to B's mean
//   descriptor than to A's, the means taken from the real faces given (cropped like the model's
//   input); likewise B->A;
// - landmark error: mean distance between the 68 landmarks of each swap and of its source face,
//   divided by the source's inter-ocular distance: pose and expression must survive the swap.

import * as tf from '@tensorflow/tfjs';
import type { SwapFaces, SwapMetrics } from '../train/evaluate';
import { cropLandmarks, descriptorDistance, faceDescriptor, meanDescriptor } from './recognition';
import { eyeCentres } from './template';

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

/** Share of `swapped` descriptors nearer to `toward`'s mean than to `from`'s. */
export function identityTransfer(swapped: Float32Array[], from: Float32Array, toward: Float32Array): number {
  if (swapped.length === 0) return NaN;
  return swapped.filter((d) => descriptorDistance(d, toward) < descriptorDistance(d, from)).length / swapped.length;
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

export async function faceApiSwapMetrics(faces: SwapFaces): Promise<SwapMetrics> {
  const [da, db, dab, dba] = [
    await eachFace(faces.a, faceDescriptor),
    await eachFace(faces.b, faceDescriptor),
    await eachFace(faces.aToB, faceDescriptor),
    await eachFace(faces.bToA, faceDescriptor),
  ];
  const meanA = meanDescriptor(da), meanB = meanDescriptor(db);
  const round = (x: number) => Math.round(x * 1e4) / 1e4;
  return {
    identityTransfer: { a2b: round(identityTransfer(dab, meanA, meanB)), b2a: round(identityTransfer(dba, meanB, meanA)) },
    landmarkError: { a2b: round(await landmarkError(faces.a, faces.aToB)), b2a: round(await landmarkError(faces.b, faces.bToA)) },
  };
}
