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
const round = (x: number) => Math.round(x * 1e4) / 1e4;

/**
 * Scores swapped faces photo by photo, keeping only numbers (a descriptor and a landmark error per
 * face and stage), so a folder of any size is measured without holding its pictures.
 * `from` and `toward` are the two people's mean descriptors.
 */
export class SwapMeter {
  private faces = 0;
  private readonly descriptors = { decoded: [] as Float32Array[], final: [] as Float32Array[] };
  private readonly landmarkSum = { decoded: 0, final: 0 };

  constructor(private readonly from: Float32Array, private readonly toward: Float32Array) {}

  /** Score the stages of one photo's swapped faces. */
  async add(stages: FaceStages[]): Promise<void> {
    if (stages.length === 0) return;
    const sources = stack(stages.map((s) => s.aligned));
    try {
      for (const [stage, images] of [['decoded', stages.map((s) => s.decoded)], ['final', stages.map((s) => s.blended)]] as const) {
        const swaps = stack(images);
        try {
          this.descriptors[stage].push(...(await eachFace(swaps, faceDescriptor)));
          this.landmarkSum[stage] += (await landmarkError(sources, swaps)) * stages.length;
        } finally {
          swaps.dispose();
        }
      }
    } finally {
      sources.dispose();
    }
    this.faces += stages.length;
  }

  /** The scores so far; null before any face. */
  result(): SwapMeasures | null {
    if (this.faces === 0) return null;
    const scores = (stage: 'decoded' | 'final'): StageScores => ({
      identityTransfer: round(identityTransfer(this.descriptors[stage], this.from, this.toward)),
      landmarkError: round(this.landmarkSum[stage] / this.faces),
    });
    return { faces: this.faces, decoded: scores('decoded'), final: scores('final') };
  }
}
