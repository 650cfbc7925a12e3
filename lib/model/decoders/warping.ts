// The warping decoder: it keeps one real photo of its person (chosen from the training faces) and
// moves and relights it into the pose and expression of the code, instead of painting every pixel
// (the layers, and why: warping-layers.ts). The idea behind X2Face and Deforming Autoencoders (2018).
//   - build: the flow from the features at half the output side and the light from those at a
//     quarter, each bilinearly enlarged (smooth by construction); the photo read there and relit;
//     the mask channel, when asked for, painted from the full side as the painting decoder does.
//   - prepare: a new decoder picks its photo (texture-choice.ts) and keeps its landmarks.
//   - faceMaps / batchTargets / lossTerm: where each training face's pixels lie in the photo
//     (texture-coords.ts), and a loss term pulling the decoder's coordinates towards those.
//   - swap / renderSwapLarge: a swap keeps config.swapLight of the light, and can be drawn from the
//     photo kept warpDetail times larger.

import * as tf from '@tensorflow/tfjs';
import { decoderUpscales, type Initializer } from '../blocks';
import type { ModelConfig } from '../config';
import type { DecoderKind } from './decoder-kind';
import { identityTexture } from './texture-choice';
import { textureCoordinates } from './texture-coords';
import { chooseTexture, renderDetailed, startTextures, WarpCoords, WarpFace, warpLayer, warpStages, withCoordinates } from './warping-layers';

/** How much of a warping decoder's light a swap keeps (ModelConfig.swapLight; all of it when unset). */
export function swapLightOf(c: ModelConfig): number {
  return c.swapLight ?? 1;
}

/**
 * How much the pull towards the landmarks' texture coordinates counts at each pixel: fully on the
 * face, a fifth elsewhere. Outside the landmarks the coordinates are a guess (the frame stays put),
 * but without any pull there the decoder's flow wanders and smears the background (seen: a second
 * mouth on a cheek).
 */
export function coordinateWeights(mask: Float32Array, outside = 0.2): Float32Array {
  return mask.map((m) => outside + (1 - outside) * m);
}

export const warping: DecoderKind = {
  name: 'warping',
  summary: "moves and relights one real photo of its person (the flow and the light come from the code)",
  needsLandmarks: true,

  validate(c) {
    const problems: string[] = [];
    const detail = c.warpDetail ?? 1;
    if (!Number.isInteger(detail) || detail < 1 || detail > 8) problems.push(`warpDetail must be an integer from 1 to 8, got ${c.warpDetail}`);
    const light = swapLightOf(c);
    if (!(light >= 0 && light <= 1)) problems.push(`swapLight must be from 0 to 1, got ${c.swapLight}`);
    if (c.decoderWidths.length < 3) problems.push(`a warping decoder needs 3 decoder upscales (its light comes from the quarter side), got ${c.decoderWidths.length}`);
    return problems;
  },

  build(c, code, init) {
    // The last upscale feeds only the mask: without one it is not built.
    const n = c.decoderWidths.length;
    const sides = decoderUpscales(c, code, init, c.mask ? n : n - 1);
    const [quarter, half, full] = [sides[n - 3]!, sides[n - 2]!, sides[n - 1]];
    // Zero weights: the flow starts at none, the gain at 1.
    const conv = (filters: number, kernelSize: number, name: string, from: tf.SymbolicTensor, kernelInitializer: Initializer | 'zeros' = 'zeros', activation?: 'sigmoid') =>
      tf.layers.conv2d({ filters, kernelSize, padding: 'same', kernelInitializer, activation, name }).apply(from) as tf.SymbolicTensor;
    const up = (x: tf.SymbolicTensor, by: number, name: string) => tf.layers.upSampling2d({ size: [by, by], interpolation: 'bilinear', name }).apply(x) as tf.SymbolicTensor;
    const flow = up(conv(2, 3, 'dec_flow', half), 2, 'dec_flow_up');
    const gain = up(conv(3, 3, 'dec_gain', quarter), 4, 'dec_gain_up');
    const coords = new WarpCoords({ textureSize: c.inputSize, name: 'dec_coords' }).apply(flow) as tf.SymbolicTensor;
    const face = new WarpFace({ textureSize: c.inputSize, detail: c.warpDetail, name: 'dec_warp' }).apply([coords, gain]) as tf.SymbolicTensor;
    if (!c.mask) return face;
    return tf.layers.concatenate({ name: 'dec_with_mask' }).apply([face, conv(1, 5, 'dec_mask', full!, init(), 'sigmoid')]) as tf.SymbolicTensor;
  },

  async prepare(decoder, faces, log) {
    const { set } = faces;
    // The most recognisable of the person's most typical faces; the most typical when the recognition net cannot run.
    const choose = async () => {
      try {
        const c = await identityTexture({ pixels: set.pixels, landmarks: faces.landmarks }, set.size);
        if (Number.isFinite(c.distance))
          log(`of the ${set.pixels.length} faces, the photo that stays most like this person when moved lies ${c.distance.toFixed(3)} from their mean descriptor (the most typical face: ${c.typicalDistance.toFixed(3)})`);
        return c.index;
      } catch (e) {
        log(`the photo is the most typical face (the recognition net could not choose: ${(e as Error).message.split('\n')[0]})`);
        return chooseTexture({ pixels: set.pixels, landmarks: faces.landmarks });
      }
    };
    const k = (await startTextures({ [faces.id]: decoder }, { [faces.id]: { pixels: set.pixels, landmarks: faces.landmarks } }, set.size, (_, i, side) => faces.larger(i, side), choose))[faces.id];
    log(`the texture is ${set.files[k!]}`);
  },

  async faceMaps(decoder, faces, masks) {
    const layer = warpLayer(decoder)!;
    const texture = layer.textureLandmarks();
    return faces.landmarks.map((lm, i) => (lm ? { ...textureCoordinates(lm, texture, faces.set.size, layer.textureSize), uvWeight: coordinateWeights(masks[i]!) } : null));
  },

  // Texture x and y of each target pixel, and the weight of each (repeated for both).
  batchTargets: { coords: ['u', 'v'], coordsWeight: ['uvWeight', 'uvWeight'] },

  lossTerm({ decoder, code, targets, weight }) {
    const pull = weight('coordsWeight');
    const want = targets.coords, w = targets.coordsWeight;
    if (!(pull > 0) || !want || !w) return null;
    const [output, coords] = withCoordinates(decoder).apply(code, { training: true }) as tf.Tensor4D[];
    // Mean absolute error of the coordinates, weighted, in texture sides.
    const err = coords!.sub(want).abs().mul(w).sum().div(w.sum().add(1e-6)).div(warpLayer(decoder)!.textureSize);
    return { output: output!, loss: err.mul(pull) as tf.Scalar };
  },

  swap(decoder, codes, c) {
    const strength = swapLightOf(c);
    if (strength === 1) return decoder.apply(codes, { training: false }) as tf.Tensor4D;
    const { face, mask } = warpStages(decoder, codes, strength);
    return mask ? (tf.concat([face, mask], 3) as tf.Tensor4D) : face;
  },

  detail: (c) => c.warpDetail ?? 1,

  renderSwapLarge: (decoder, codes, c) => renderDetailed(decoder, codes, swapLightOf(c)),
};
