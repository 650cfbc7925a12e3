// Converting one face: cut it out of the photo exactly as training saw it (the aligned crop,
// rounded to 8 bits as the extracted PNGs were, then the centre square resized with the same
// lanczos3 resize), encode it with the shared encoder and decode it as the other identity.

import * as tf from '@tensorflow/tfjs';
import type { Point } from '../faces/types';
import { warpAffine } from '../faces/resample';
import { centreCropResize, imageToTensor, tensorToImage } from '../util/image';
import { faceFrame, type FaceFrame } from './geometry';
import type { SwapModel } from './model';

export interface ConvertedFace {
  frame: FaceFrame;
  /** The model's input: the face as training prepared it, [s, s, 3] in [0, 1]. */
  source: tf.Tensor3D;
  /** The face decoded as the other identity, [s, s, 3] in [0, 1]. */
  decoded: tf.Tensor3D;
  /** The decoder's own mask channel, [s, s, 1], when the model has one. */
  modelMask: tf.Tensor3D | null;
}

/** The model's input for a face with these landmarks in the photo, [s, s, 3] in [0, 1]. */
export async function modelInput(photo: tf.Tensor3D, frame: FaceFrame, model: SwapModel): Promise<tf.Tensor3D> {
  const size = model.geometry.size;
  const crop = warpAffine(photo, frame.crop, size);
  let rgb;
  try {
    rgb = await tensorToImage(crop);
  } finally {
    crop.dispose();
  }
  const data = await centreCropResize(rgb.data, size, size, model.inputSize, model.cropFraction);
  return imageToTensor({ data, width: model.inputSize, height: model.inputSize });
}

/** Align, encode and decode one face as `identity`. The caller disposes the tensors. */
export async function convertFace(photo: tf.Tensor3D, landmarks: readonly Point[], model: SwapModel, identity: string): Promise<ConvertedFace> {
  const frame = faceFrame(landmarks, model.geometry, model.cropFraction, model.inputSize);
  const source = await modelInput(photo, frame, model);
  const out = tf.tidy(() => model.decode(source.expandDims(0) as tf.Tensor4D, identity).squeeze([0]) as tf.Tensor3D);
  try {
    const decoded = out.slice([0, 0, 0], [-1, -1, 3]) as tf.Tensor3D;
    const modelMask = out.shape[2] > 3 ? (out.slice([0, 0, 3], [-1, -1, 1]) as tf.Tensor3D) : null;
    return { frame, source, decoded, modelMask };
  } finally {
    out.dispose();
  }
}

export function disposeConverted(c: ConvertedFace): void {
  tf.dispose([c.source, c.decoded, ...(c.modelMask ? [c.modelMask] : [])]);
}
