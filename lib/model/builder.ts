// Builds the classic deepfake autoencoder from a ModelConfig: one shared encoder, one decoder per
// identity. Train A->A and B->B; swap by encoding A and decoding with B's decoder.
//
//   encoder: [conv5x5 s2 + LeakyReLU] x N -> flatten -> dense(latent) -> dense(side*side*C)
//            -> reshape(side, side, C) -> upscale            (image: 64 -> 4 -> 8 px for `original`)
//   decoder: upscale x M -> conv5x5 to 3 (+1 mask) channels -> sigmoid   (8 -> 64 px)
//            (the painting kind, the 2018 decoder; other kinds end differently: decoders/)
//   upscale: conv3x3 to 4*W + LeakyReLU -> pixel shuffle 2 (sub-pixel convolution, W channels)
//   (with decoderResBlocks: each decoder upscale is followed by that many residual blocks)

import * as tf from '@tensorflow/tfjs';
import { convThenLeaky, initialiserSource, upscale, type Initializer } from './blocks';
import { bottleneckSide, type ModelConfig } from './config';
import { decoderKindOf, validateModelConfig } from './decoders/registry';

export interface Autoencoder {
  config: ModelConfig;
  encoder: tf.LayersModel;
  /** One decoder per identity, keyed by its name in config.identities. */
  decoders: Record<string, tf.LayersModel>;
}

export interface BuildOptions {
  /** Seed for the weight initialisers: the same seed builds the same weights. */
  seed?: number;
}

export function buildEncoder(c: ModelConfig, init: () => Initializer = initialiserSource(undefined)): tf.LayersModel {
  validateModelConfig(c);
  const input = tf.input({ shape: [c.inputSize, c.inputSize, 3], name: 'face' });
  let x = input;
  c.encoderWidths.forEach((filters, i) => {
    x = convThenLeaky(x, { filters, kernelSize: 5, strides: 2, leak: c.leak, init: init(), name: `enc_conv${i + 1}`, actName: `enc_conv${i + 1}_act` });
  });
  const side = bottleneckSide(c);
  // No activation on the two dense layers, as in the original: the code is a linear projection.
  x = tf.layers.flatten({ name: 'enc_flatten' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: c.latentSize, kernelInitializer: init(), name: 'enc_latent' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: side * side * c.bottleneckChannels, kernelInitializer: init(), name: 'enc_expand' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reshape({ targetShape: [side, side, c.bottleneckChannels], name: 'enc_reshape' }).apply(x) as tf.SymbolicTensor;
  x = upscale(x, c.encoderUpscale, 'enc_up', c.leak, init);
  return tf.model({ inputs: input, outputs: x, name: 'encoder' });
}

/** Shape of the encoder's output, which every decoder reads. */
export function encodedShape(c: ModelConfig): [number, number, number] {
  const side = bottleneckSide(c) * 2;
  return [side, side, c.encoderUpscale];
}

/** One person's decoder: the config's decoder kind built on the shared code (decoders/). */
export function buildDecoder(c: ModelConfig, identity: string, init: () => Initializer = initialiserSource(undefined)): tf.LayersModel {
  validateModelConfig(c);
  const input = tf.input({ shape: encodedShape(c), name: 'code' });
  return tf.model({ inputs: input, outputs: decoderKindOf(c).build(c, input, init), name: `decoder_${identity}` });
}

export function buildAutoencoder(c: ModelConfig, options: BuildOptions = {}): Autoencoder {
  const init = initialiserSource(options.seed);
  const encoder = buildEncoder(c, init);
  const decoders: Record<string, tf.LayersModel> = {};
  for (const id of c.identities) decoders[id] = buildDecoder(c, id, init);
  return { config: c, encoder, decoders };
}

/** Every trainable weight of the encoder and the given decoder: what one identity's step updates. */
export function trainableFor(ae: Autoencoder, identity: string): tf.Variable[] {
  const layers = [...ae.encoder.trainableWeights, ...decoderOf(ae, identity).trainableWeights];
  return layers.map((w) => w.read() as tf.Variable);
}

export function decoderOf(ae: Autoencoder, identity: string): tf.LayersModel {
  const d = ae.decoders[identity];
  if (!d) throw new Error(`no decoder for identity "${identity}" (have ${Object.keys(ae.decoders).join(', ')})`);
  return d;
}

/** Parameter counts: encoder, each decoder and the total. */
export function countParams(ae: Autoencoder): { encoder: number; decoders: Record<string, number>; total: number } {
  const decoders: Record<string, number> = {};
  for (const [id, d] of Object.entries(ae.decoders)) decoders[id] = d.countParams();
  const encoder = ae.encoder.countParams();
  return { encoder, decoders, total: encoder + Object.values(decoders).reduce((a, b) => a + b, 0) };
}

/**
 * Encode with the shared encoder and decode with `identity`'s decoder: reconstruction when the
 * faces are that person's, a swap otherwise. [n, s, s, 3] in [0, 1] -> [n, s, s, 3 or 4].
 */
export function autoencode(ae: Autoencoder, faces: tf.Tensor4D, identity: string, training = false): tf.Tensor4D {
  return tf.tidy(() => {
    const code = ae.encoder.apply(faces, { training }) as tf.Tensor4D;
    return decoderOf(ae, identity).apply(code, { training }) as tf.Tensor4D;
  });
}

/** `autoencode`'s colour channels only: the decoded faces without the mask channel (when there is one). */
export function autoencodeRgb(ae: Autoencoder, faces: tf.Tensor4D, identity: string): tf.Tensor4D {
  return tf.tidy(() => autoencode(ae, faces, identity).slice([0, 0, 0, 0], [-1, -1, -1, 3]) as tf.Tensor4D);
}

/**
 * Faces of another person decoded as `identity`: the swap. That is `autoencode`, except where the
 * decoder kind draws a swap its own way (a warping decoder keeps only config.swapLight of its light:
 * learned on its own person's faces, from another person's code it also paints that person's
 * shading, and with it some of who they are; docs/recipes.md, "How much light a swap keeps").
 */
export function swapDecode(ae: Autoencoder, faces: tf.Tensor4D, identity: string): tf.Tensor4D {
  const kind = decoderKindOf(ae.config);
  if (!kind.swap) return autoencode(ae, faces, identity);
  return tf.tidy(() => kind.swap!(decoderOf(ae, identity), ae.encoder.apply(faces, { training: false }) as tf.Tensor4D, ae.config));
}

/** `swapDecode`'s colour channels only. */
export function swapDecodeRgb(ae: Autoencoder, faces: tf.Tensor4D, identity: string): tf.Tensor4D {
  return tf.tidy(() => swapDecode(ae, faces, identity).slice([0, 0, 0, 0], [-1, -1, -1, 3]) as tf.Tensor4D);
}

export function disposeAutoencoder(ae: Autoencoder): void {
  ae.encoder.dispose();
  for (const d of Object.values(ae.decoders)) d.dispose();
}
