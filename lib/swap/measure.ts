// Does the post-processing keep what the decoder achieved? Identity transfer and landmark error of
// the swapped faces measured twice: on the decoder's raw output, and on the same face cut back out
// of the finished photo (after mask, colour matching and blending). Used by `swap --measure`.

import * as tf from '@tensorflow/tfjs';
import { faceDescriptor } from '../faces/recognition';
import { eachFace, identityTransfer, landmarkError } from '../faces/swap-metrics';
import { imageToTensor, type RgbImage } from '../image';
import type { FaceStages } from './swap-face';

export interface StageScores {
  /** Share of swapped faces the recognition net places nearer the target person than the source. */
  identityTransfer: number;
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

const stack = (images: RgbImage[]) => tf.tidy(() => tf.stack(images.map(imageToTensor)) as tf.Tensor4D);

/** Scores for the stages of every swapped face; `from` and `toward` are the two people's mean descriptors. */
export async function measureSwaps(stages: FaceStages[], from: Float32Array, toward: Float32Array): Promise<SwapMeasures | null> {
  if (stages.length === 0) return null;
  const round = (x: number) => Math.round(x * 1e4) / 1e4;
  const sources = stack(stages.map((s) => s.aligned));
  try {
    const score = async (images: RgbImage[]): Promise<StageScores> => {
      const swaps = stack(images);
      try {
        return { identityTransfer: round(identityTransfer(await eachFace(swaps, faceDescriptor), from, toward)), landmarkError: round(await landmarkError(sources, swaps)) };
      } finally {
        swaps.dispose();
      }
    };
    return { faces: stages.length, decoded: await score(stages.map((s) => s.decoded)), final: await score(stages.map((s) => s.blended)) };
  } finally {
    sources.dispose();
  }
}
