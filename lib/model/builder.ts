// Builds the classic deepfake autoencoder from a ModelConfig: one shared encoder, one decoder per
// identity. Train A->A and B->B; swap by encoding A and decoding with B's decoder.
//
//   encoder: [conv5x5 s2 + LeakyReLU] x N -> flatten -> dense(latent) -> dense(side*side*C)
//            -> reshape(side, side, C) -> upscale            (image: 64 -> 4 -> 8 px for `original`)
//   decoder: upscale x M -> conv5x5 to 3 (+1 mask) channels -> sigmoid   (8 -> 64 px)
//   upscale: conv3x3 to 4*W + LeakyReLU -> pixel shuffle 2 (sub-pixel convolution, W channels)
//   (with decoderResBlocks: each decoder upscale is followed by that many residual blocks)

import * as tf from '@tensorflow/tfjs';
import { bottleneckSide, resBlocksAt, swapLightOf, validateConfig, type ModelConfig } from './config';
import { ConvLeaky } from './conv-leaky';
import { PixelShuffle } from './pixel-shuffle';
import { WarpCoords, WarpFace, warpStages } from './warp-face';

// The type glorotUniform returns; tfjs does not export its Initializer class by name.
type Initializer = ReturnType<typeof tf.initializers.glorotUniform>;

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

/** Glorot-uniform initialisers with consecutive seeds, or unseeded ones. */
function initialiserSource(seed: number | undefined): () => Initializer {
  let next = seed;
  return () => tf.initializers.glorotUniform(next === undefined ? {} : { seed: next++ });
}

// DEEPFAKE_FUSED_LAYERS=0 builds the two-layer form (for comparing speed; the weights are the same).
const FUSED = process.env.DEEPFAKE_FUSED_LAYERS !== '0';

/**
 * A 'same'-padded convolution followed by LeakyReLU: one ConvLeaky layer (see conv-leaky.ts), or
 * conv2d + leakyReLU. Both name their weights `<name>/kernel` and `<name>/bias`.
 */
function convThenLeaky(x: tf.SymbolicTensor, o: { filters: number; kernelSize: number; strides?: number; leak: number; init: Initializer; name: string; actName: string }): tf.SymbolicTensor {
  if (FUSED && o.leak > 0)
    return new ConvLeaky({ filters: o.filters, kernelSize: o.kernelSize, strides: o.strides, alpha: o.leak, kernelInitializer: o.init, name: o.name }).apply(x) as tf.SymbolicTensor;
  const conv = tf.layers.conv2d({ filters: o.filters, kernelSize: o.kernelSize, strides: o.strides ?? 1, padding: 'same', kernelInitializer: o.init, name: o.name });
  return tf.layers.leakyReLU({ alpha: o.leak, name: o.actName }).apply(conv.apply(x)) as tf.SymbolicTensor;
}

/** conv3x3 to 4*width, LeakyReLU, pixel shuffle: twice the side, `width` channels. */
function upscale(x: tf.SymbolicTensor, width: number, name: string, leak: number, init: () => Initializer): tf.SymbolicTensor {
  const y = convThenLeaky(x, { filters: width * 4, kernelSize: 3, leak, init: init(), name: `${name}_conv`, actName: `${name}_act` });
  return new PixelShuffle({ blockSize: 2, name: `${name}_shuffle` }).apply(y) as tf.SymbolicTensor;
}

/** x + conv3x3(LeakyReLU(conv3x3(x))), then LeakyReLU: DeepFaceLab's decoder block. */
function residualBlock(x: tf.SymbolicTensor, name: string, leak: number, init: () => Initializer): tf.SymbolicTensor {
  const width = x.shape[3] as number;
  const conv = (n: string) => tf.layers.conv2d({ filters: width, kernelSize: 3, padding: 'same', kernelInitializer: init(), name: `${name}_${n}` });
  let y = convThenLeaky(x, { filters: width, kernelSize: 3, leak, init: init(), name: `${name}_conv1`, actName: `${name}_act1` });
  y = conv('conv2').apply(y) as tf.SymbolicTensor;
  y = tf.layers.add({ name: `${name}_add` }).apply([x, y]) as tf.SymbolicTensor;
  return tf.layers.leakyReLU({ alpha: leak, name: `${name}_act2` }).apply(y) as tf.SymbolicTensor;
}

export function buildEncoder(c: ModelConfig, init: () => Initializer = initialiserSource(undefined)): tf.LayersModel {
  validateConfig(c);
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

export function buildDecoder(c: ModelConfig, identity: string, init: () => Initializer = initialiserSource(undefined)): tf.LayersModel {
  validateConfig(c);
  const input = tf.input({ shape: encodedShape(c), name: 'code' });
  let x = input;
  const sides: tf.SymbolicTensor[] = [];  // the features after each upscale (a warping decoder reads two)
  c.decoderWidths.forEach((w, i) => {
    x = upscale(x, w, `dec_up${i + 1}`, c.leak, init);
    for (let r = 0; r < resBlocksAt(c, i); r++) x = residualBlock(x, `dec_res${i + 1}_${r + 1}`, c.leak, init);
    sides.push(x);
  });
  if (c.warp) return tf.model({ inputs: input, outputs: warpOutput(c, sides, init), name: `decoder_${identity}` });
  const out = tf.layers.conv2d({
    filters: c.mask ? 4 : 3,
    kernelSize: 5,
    padding: 'same',
    activation: 'sigmoid',
    kernelInitializer: init(),
    name: 'dec_out',
  }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: `decoder_${identity}` });
}

/**
 * A warping decoder's ending (warp-face.ts): the flow from the features at half the output side and
 * the gain (light) from those at a quarter, each bilinearly enlarged, so both are smooth by
 * construction; the texture read and relit; the mask channel, when asked for, painted as usual.
 * Zero weights: the flow starts at none, the gain at 1.
 */
function warpOutput(c: ModelConfig, sides: tf.SymbolicTensor[], init: () => Initializer): tf.SymbolicTensor {
  const conv = (filters: number, kernelSize: number, name: string, from: tf.SymbolicTensor, kernelInitializer: Initializer | 'zeros' = 'zeros', activation?: 'sigmoid') =>
    tf.layers.conv2d({ filters, kernelSize, padding: 'same', kernelInitializer, activation, name }).apply(from) as tf.SymbolicTensor;
  const up = (x: tf.SymbolicTensor, by: number, name: string) => tf.layers.upSampling2d({ size: [by, by], interpolation: 'bilinear', name }).apply(x) as tf.SymbolicTensor;
  const [full, half, quarter] = [...sides].reverse();
  const flow = up(conv(2, 3, 'dec_flow', half), 2, 'dec_flow_up');
  const gain = up(conv(3, 3, 'dec_gain', quarter), 4, 'dec_gain_up');
  const coords = new WarpCoords({ textureSize: c.inputSize, name: 'dec_coords' }).apply(flow) as tf.SymbolicTensor;
  const face = new WarpFace({ textureSize: c.inputSize, detail: c.warpDetail, name: 'dec_warp' }).apply([coords, gain]) as tf.SymbolicTensor;
  if (!c.mask) return face;
  return tf.layers.concatenate({ name: 'dec_with_mask' }).apply([face, conv(1, 5, 'dec_mask', full, init(), 'sigmoid')]) as tf.SymbolicTensor;
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
 * Faces of another person decoded as `identity`: the swap. That is `autoencode`, except that a warping
 * decoder keeps only config.swapLight of its light (warp-face.ts). Its light was learned on its own
 * person's faces; from another person's code it also paints that person's shading, and with it some
 * of who they are (docs/recipes.md, "How much light a swap keeps").
 */
export function swapDecode(ae: Autoencoder, faces: tf.Tensor4D, identity: string): tf.Tensor4D {
  const strength = swapLightOf(ae.config);
  if (!ae.config.warp || strength === 1) return autoencode(ae, faces, identity);
  return tf.tidy(() => {
    const { face, mask } = warpStages(decoderOf(ae, identity), ae.encoder.apply(faces, { training: false }) as tf.Tensor4D, strength);
    return mask ? (tf.concat([face, mask], 3) as tf.Tensor4D) : face;
  });
}

/** `swapDecode`'s colour channels only. */
export function swapDecodeRgb(ae: Autoencoder, faces: tf.Tensor4D, identity: string): tf.Tensor4D {
  return tf.tidy(() => swapDecode(ae, faces, identity).slice([0, 0, 0, 0], [-1, -1, -1, 3]) as tf.Tensor4D);
}

export function disposeAutoencoder(ae: Autoencoder): void {
  ae.encoder.dispose();
  for (const d of Object.values(ae.decoders)) d.dispose();
}
