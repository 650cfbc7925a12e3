// Does the post-processing keep what the decoder achieved? The swapped faces measured twice: on the
// decoder's raw output, and on the same face cut back out of the finished photo (after mask, colour
// matching and blending). Used by `swap --measure`.
//
// Measures (lib/metrics/): identity transfer (nearer the target than the source), identity
// verification (as close to the target as 95% of the target's own photos), sharpness ratio
// (Laplacian variance inside the swap's mask, over the target's real faces) and landmark error.
// The target's real faces come from the model's training folder, cut exactly like model inputs.

import * as tf from '@tensorflow/tfjs';
import { faceDescriptor } from '../faces/recognition';
import { imageToTensor, type RgbImage } from '../util/image';
import { calibrateVerifier, identityTransfer, verify, type Verifier } from '../metrics/identity';
import { laplacianVariance } from '../metrics/pixel-metrics';
import { eachFace, landmarkError } from '../metrics/landmarks';
import { mean } from '../util/stats';
import { subset } from '../data/face-set';
import { facesToTensor } from '../data/face-set';
import { faceMaskTensor, loadIdentityFaces } from '../data/identity-faces';
import type { FaceStages } from './swap-face';

export interface StageScores {
  /** Share of swapped faces the recognition net places nearer the target person than the source. */
  identityTransfer: number;
  /** Share within the target's own 95% distance (null without a reference). */
  verification: number | null;
  /** Mean Laplacian variance inside the swap mask over that of the target's real faces (null without a reference). */
  sharpness: number | null;
  /** Mean landmark distance from the source face, over the inter-ocular distance. */
  landmarkError: number;
}

export interface SwapMeasures {
  faces: number;
  /** The decoder's output, before mask, colour matching and blending. */
  decoded: StageScores;
  /** The face as it ends up in the written photo. */
  final: StageScores;
}

/** What the target person's real faces look like to the metrics: their verifier and sharpness. */
export interface TargetReference {
  verifier: Verifier;
  sharpness: number;
}

/**
 * The reference from up to `limit` faces of the target's folder, cut like the model's inputs
 * (its size and centre crop), sharpness taken inside each face's landmark mask.
 */
export async function targetReference(dir: string, size: number, cropFraction: number, limit = 48): Promise<TargetReference | null> {
  const all = (await loadIdentityFaces(dir, size, { cropFraction, holdout: 0 })).train;
  const n = Math.min(limit, all.pixels.length);
  if (n < 3) return null;
  const set = subset(all, [...Array(n).keys()]);
  const faces = facesToTensor(set.pixels, size);
  const masks = await faceMaskTensor(set, cropFraction);
  try {
    return { verifier: calibrateVerifier(await eachFace(faces, faceDescriptor)), sharpness: mean(await laplacianVariance(faces, masks)) };
  } finally {
    tf.dispose([faces, masks]);
  }
}

const stack = (images: RgbImage[]) => tf.tidy(() => tf.stack(images.map(imageToTensor)) as tf.Tensor4D);
/** A grey RGB mask picture as weights [n, s, s, 1]. */
const stackMasks = (images: RgbImage[]) => tf.tidy(() => stack(images).mean(3, true) as tf.Tensor4D);
const round = (x: number) => Math.round(x * 1e4) / 1e4;

/**
 * Scores swapped faces photo by photo, keeping only numbers (a descriptor, a sharpness and a
 * landmark error per face and stage), so a folder of any size is measured without holding its
 * pictures. `from` and `toward` are the two people's mean descriptors.
 */
export class SwapMeter {
  private faces = 0;
  private readonly descriptors = { decoded: [] as Float32Array[], final: [] as Float32Array[] };
  private readonly sharpness = { decoded: [] as number[], final: [] as number[] };
  private readonly landmarkSum = { decoded: 0, final: 0 };

  constructor(private readonly from: Float32Array, private readonly toward: Float32Array, private readonly reference: TargetReference | null = null) {}

  /** Score the stages of one photo's swapped faces. */
  async add(stages: FaceStages[]): Promise<void> {
    if (stages.length === 0) return;
    const sources = stack(stages.map((s) => s.aligned));
    const masks = stackMasks(stages.map((s) => s.mask));
    try {
      for (const [stage, images] of [['decoded', stages.map((s) => s.decoded)], ['final', stages.map((s) => s.blended)]] as const) {
        const swaps = stack(images);
        try {
          this.descriptors[stage].push(...(await eachFace(swaps, faceDescriptor)));
          this.sharpness[stage].push(...(await laplacianVariance(swaps, masks)));
          this.landmarkSum[stage] += (await landmarkError(sources, swaps)) * stages.length;
        } finally {
          swaps.dispose();
        }
      }
    } finally {
      tf.dispose([sources, masks]);
    }
    this.faces += stages.length;
  }

  /** The scores so far; null before any face. */
  result(): SwapMeasures | null {
    if (this.faces === 0) return null;
    const ref = this.reference;
    const scores = (stage: 'decoded' | 'final'): StageScores => ({
      identityTransfer: round(identityTransfer(this.descriptors[stage], this.from, this.toward)),
      verification: ref ? round(verify(this.descriptors[stage], ref.verifier).rate) : null,
      sharpness: ref ? round(mean(this.sharpness[stage]) / Math.max(1e-9, ref.sharpness)) : null,
      landmarkError: round(this.landmarkSum[stage] / this.faces),
    });
    return { faces: this.faces, decoded: scores('decoded'), final: scores('final') };
  }
}
