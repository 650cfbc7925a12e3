// The swap metrics of ../shared/docs/architecture.md on model-sized face crops, with face-api's
// recognition and landmark nets run straight on the crops:
//
// - identity transfer (lenient): share of A->B swaps nearer to B's mean descriptor than to A's;
// - identity verification (strict): share of A->B swaps as close to B's mean as B's own real
//   photos lie (lib/metrics/identity.ts);
// - sharpness ratio: variance of the Laplacian inside the face mask, swaps over B's real faces;
// - landmark error: how far the swap's landmarks moved from its source face's (pose, expression).
// Likewise B->A. The real faces calibrate everything: they must be cropped exactly like the swaps.

import * as tf from '@tensorflow/tfjs';
import { faceDescriptor, meanDescriptor } from '../faces/recognition';
import { mean } from '../util/stats';
import { calibrateVerifier, identityTransfer, verify } from './identity';
import { laplacianVariance } from './pixel-metrics';
import { eachFace, landmarkError } from './landmarks';

/** Real faces of A and B and their swaps, [n, s, s, 3] in [0, 1]. */
export interface SwapFaces {
  a: tf.Tensor4D;
  b: tf.Tensor4D;
  /** A's faces decoded by B's decoder. */
  aToB: tf.Tensor4D;
  bToA: tf.Tensor4D;
  /** Face masks of the real faces [n, s, s, 1]; a swap has its source's. Without: whole crops. */
  masks?: { a: tf.Tensor4D; b: tf.Tensor4D };
}

export interface Directions<T = number | null> {
  a2b: T;
  b2a: T;
}

export interface SwapMetrics {
  /** Share of swapped faces recognised as closer to the target identity than to the source. */
  identityTransfer: Directions;
  /** Share of swapped faces within the target's own 95% leave-one-out distance (null: too few real faces). */
  verification: Directions;
  /** Mean Laplacian variance inside the face mask, swaps over the target's real faces. */
  sharpness: Directions;
  /** Mean landmark distance swap vs source, over the inter-ocular distance. */
  landmarkError: Directions;
  /** Median descriptor distance to the target's mean: of the swaps, and of the target's own real faces. */
  descriptorDistance: { a2b: number | null; b2a: number | null; realA: number | null; realB: number | null };
}

export type SwapMetricsFn = (faces: SwapFaces) => Promise<SwapMetrics>;

const none = { a2b: null, b2a: null };
export const NO_SWAP_METRICS: SwapMetrics = {
  identityTransfer: none, verification: none, sharpness: none, landmarkError: none,
  descriptorDistance: { a2b: null, b2a: null, realA: null, realB: null },
};

const round = (x: number) => (Number.isFinite(x) ? Math.round(x * 1e4) / 1e4 : null);

/** Mean sharpness of `swaps` (masked by their sources' masks) over that of `real` (their own masks). */
export async function sharpnessRatio(swaps: tf.Tensor4D, swapMasks: tf.Tensor4D | undefined, real: tf.Tensor4D, realMasks: tf.Tensor4D | undefined): Promise<number> {
  return mean(await laplacianVariance(swaps, swapMasks)) / Math.max(1e-9, mean(await laplacianVariance(real, realMasks)));
}

export async function faceApiSwapMetrics(faces: SwapFaces): Promise<SwapMetrics> {
  const [da, db, dab, dba] = [
    await eachFace(faces.a, faceDescriptor),
    await eachFace(faces.b, faceDescriptor),
    await eachFace(faces.aToB, faceDescriptor),
    await eachFace(faces.bToA, faceDescriptor),
  ];
  const meanA = meanDescriptor(da), meanB = meanDescriptor(db);
  const verifyAs = (swaps: Float32Array[], real: Float32Array[]) => (real.length >= 3 ? verify(swaps, calibrateVerifier(real)) : null);
  const vab = verifyAs(dab, db), vba = verifyAs(dba, da);
  const m = faces.masks;
  return {
    identityTransfer: { a2b: round(identityTransfer(dab, meanA, meanB)), b2a: round(identityTransfer(dba, meanB, meanA)) },
    verification: { a2b: vab && round(vab.rate), b2a: vba && round(vba.rate) },
    sharpness: { a2b: round(await sharpnessRatio(faces.aToB, m?.a, faces.b, m?.b)), b2a: round(await sharpnessRatio(faces.bToA, m?.b, faces.a, m?.a)) },
    landmarkError: { a2b: round(await landmarkError(faces.a, faces.aToB)), b2a: round(await landmarkError(faces.b, faces.bToA)) },
    descriptorDistance: { a2b: vab && round(vab.medianDistance), b2a: vba && round(vba.medianDistance), realA: vba && round(vba.realMedian), realB: vab && round(vab.realMedian) },
  };
}
