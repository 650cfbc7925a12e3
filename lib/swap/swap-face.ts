// One face, start to finish: convert (align, encode, decode as the other identity), mask, colour
// match, paste back through the inverse alignment, blend. The photo is changed in place only
// where the mask is above zero.

import * as tf from '@tensorflow/tfjs';
import type { Box, Point } from '../faces/types';
import { imageToTensor, tensorToImage, type RgbImage } from '../util/image';
import { alphaBlend, type Blender } from './blend';
import { matchColour, type ColourMatcher } from './colour';
import { convertFace, disposeConverted, modelInput } from './converter';
import { modelFrameAt, modelScale, squareBox, type FaceFrame } from './geometry';
import { DEFAULT_SWAP_MASK, swapMask, type SwapMaskOptions } from './blend-mask';
import type { SwapModel } from './model';
import { sampleInBox, squareSupport } from './paste';
import { poissonFace } from './poisson';
import { DEFAULT_SHARPEN, sharpenFace, type SharpenOptions } from './sharpen';

export interface SwapFaceOptions {
  /** Decode as this identity. */
  identity: string;
  mask?: SwapMaskOptions;
  colour?: ColourMatcher;
  blend?: Blender;
  /** Unsharp mask of the enlarged face before blending (default: DEFAULT_SHARPEN). */
  sharpen?: SharpenOptions;
  /** Keep pictures of the intermediate stages (for notebooks). */
  stages?: boolean;
}

/** The intermediate pictures of one swap, at the model's input size. */
export interface FaceStages {
  aligned: RgbImage;
  decoded: RgbImage;
  mask: RgbImage;
  matched: RgbImage;
  /** The same face cut from the finished photo: what the blend made of it. */
  blended: RgbImage;
}

export interface SwappedFace {
  /** The photo pixels the face may have changed (null: the face lies outside the photo). */
  box: Box | null;
  stages: FaceStages | null;
}

type StageTensors = { aligned: tf.Tensor3D; decoded: tf.Tensor3D; mask: tf.Tensor3D; matched: tf.Tensor3D };

async function pictures(t: StageTensors, canvas: RgbImage, frame: FaceFrame, model: SwapModel): Promise<FaceStages> {
  const finished = imageToTensor(canvas);
  const blended = await modelInput(finished, frame, model).finally(() => finished.dispose());
  try {
    return {
      aligned: await tensorToImage(t.aligned),
      decoded: await tensorToImage(t.decoded),
      mask: await tensorToImage(t.mask),
      matched: await tensorToImage(t.matched),
      blended: await tensorToImage(blended),
    };
  } finally {
    blended.dispose();
  }
}

/**
 * Swap the face with these landmarks. `photo` is the original as a tensor (faces are always cut
 * from the original); `canvas` is the output, changed in place (it may already hold other swaps).
 */
export async function swapFace(photo: tf.Tensor3D, canvas: RgbImage, landmarks: readonly Point[], model: SwapModel, options: SwapFaceOptions): Promise<SwappedFace> {
  const { identity, mask: maskOptions = DEFAULT_SWAP_MASK, colour = 'histogram', blend = 'alpha', sharpen = DEFAULT_SHARPEN } = options;
  const converted = await convertFace(photo, landmarks, model, identity);
  const tensors: tf.Tensor[] = [];
  try {
    const { frame, source, decoded } = converted;
    const mask = await swapMask(landmarks, frame, converted.modelMask, maskOptions);
    tensors.push(mask);
    // A warping model draws the face larger from its larger photo: real detail for a face that is
    // pasted over far more photo pixels than the model's input has.
    const k = model.decodeDetailed ? model.detail ?? 1 : 1;
    const side = model.inputSize * k;
    const drawn = k > 1 ? tf.tidy(() => model.decodeDetailed!(source.expandDims(0) as tf.Tensor4D, identity).squeeze([0]) as tf.Tensor3D) : decoded;
    const sourceDrawn = k > 1 ? tf.tidy(() => tf.image.resizeBilinear(source, [side, side])) : source;
    if (k > 1) tensors.push(drawn, sourceDrawn);
    // Colour statistics over the pixels the mask will paste (at the model's size, or the render's).
    const small = tf.tidy(() => tf.image.resizeBilinear(mask, [model.inputSize, model.inputSize]));
    const weights = k > 1 ? tf.tidy(() => tf.image.resizeBilinear(mask, [side, side])) : small;
    tensors.push(small, ...(k > 1 ? [weights] : []));
    const matchedData = matchColour(colour, await drawn.data() as Float32Array, await sourceDrawn.data() as Float32Array, await weights.data());
    const matched = tf.tensor3d(matchedData, drawn.shape);
    tensors.push(matched);
    const box = squareBox(frame, canvas.width, canvas.height);
    if (!box) return { box, stages: null };
    const faceBox = sampleInBox(matched, modelFrameAt(frame, k), box);
    const alphaBox = sampleInBox(mask, frame.square, box);
    tensors.push(faceBox, alphaBox);
    // Sharpening gives an enlarged painting its edges back; a detailed render has its photo's own
    // edges, and sharpening them only adds grain (seen on the built-in people), so it is pasted as drawn.
    let face = await sharpenFace((await faceBox.data()) as Float32Array, box.width, box.height, 1 / modelScale(frame), k > 1 ? { ...sharpen, amount: 0 } : sharpen);
    const alpha = Float32Array.from(await alphaBox.data());
    const inside = squareSupport(frame, box);
    for (let i = 0; i < alpha.length; i++) alpha[i] *= inside[i];
    if (blend === 'poisson') face = poissonFace(canvas, box, face, alpha);
    alphaBlend(canvas, box, face, alpha);
    const shown = k > 1 ? tf.tidy(() => tf.image.resizeBilinear(matched, [model.inputSize, model.inputSize], false, true)) : matched;
    if (k > 1) tensors.push(shown);
    const stages = options.stages ? await pictures({ aligned: source, decoded, mask: small, matched: shown }, canvas, frame, model) : null;
    return { box, stages };
  } finally {
    tf.dispose(tensors);
    disposeConverted(converted);
  }
}
