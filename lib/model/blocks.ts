// The layers every part of the autoencoder is made of: a convolution with LeakyReLU, the upscale
// (sub-pixel convolution), DeepFaceLab's residual block, and the decoders' stack of upscales.
// builder.ts puts the encoder together from them, and each decoder kind (decoders/) its decoder.

import * as tf from '@tensorflow/tfjs';
import { resBlocksAt, type ModelConfig } from './config';
import { ConvLeaky } from './conv-leaky';
import { PixelShuffle } from './pixel-shuffle';

// The type glorotUniform returns; tfjs does not export its Initializer class by name.
export type Initializer = ReturnType<typeof tf.initializers.glorotUniform>;

/** Glorot-uniform initialisers with consecutive seeds, or unseeded ones. */
export function initialiserSource(seed: number | undefined): () => Initializer {
  let next = seed;
  return () => tf.initializers.glorotUniform(next === undefined ? {} : { seed: next++ });
}

// DEEPFAKE_FUSED_LAYERS=0 builds the two-layer form (for comparing speed; the weights are the same).
const FUSED = process.env.DEEPFAKE_FUSED_LAYERS !== '0';

/**
 * A 'same'-padded convolution followed by LeakyReLU: one ConvLeaky layer (see conv-leaky.ts), or
 * conv2d + leakyReLU. Both name their weights `<name>/kernel` and `<name>/bias`.
 */
export function convThenLeaky(x: tf.SymbolicTensor, o: { filters: number; kernelSize: number; strides?: number; leak: number; init: Initializer; name: string; actName: string }): tf.SymbolicTensor {
  if (FUSED && o.leak > 0)
    return new ConvLeaky({ filters: o.filters, kernelSize: o.kernelSize, strides: o.strides, alpha: o.leak, kernelInitializer: o.init, name: o.name }).apply(x) as tf.SymbolicTensor;
  const conv = tf.layers.conv2d({ filters: o.filters, kernelSize: o.kernelSize, strides: o.strides ?? 1, padding: 'same', kernelInitializer: o.init, name: o.name });
  return tf.layers.leakyReLU({ alpha: o.leak, name: o.actName }).apply(conv.apply(x)) as tf.SymbolicTensor;
}

/** conv3x3 to 4*width, LeakyReLU, pixel shuffle: twice the side, `width` channels. */
export function upscale(x: tf.SymbolicTensor, width: number, name: string, leak: number, init: () => Initializer): tf.SymbolicTensor {
  const y = convThenLeaky(x, { filters: width * 4, kernelSize: 3, leak, init: init(), name: `${name}_conv`, actName: `${name}_act` });
  return new PixelShuffle({ blockSize: 2, name: `${name}_shuffle` }).apply(y) as tf.SymbolicTensor;
}

/** x + conv3x3(LeakyReLU(conv3x3(x))), then LeakyReLU: DeepFaceLab's decoder block. */
export function residualBlock(x: tf.SymbolicTensor, name: string, leak: number, init: () => Initializer): tf.SymbolicTensor {
  const width = x.shape[3] as number;
  const conv = (n: string) => tf.layers.conv2d({ filters: width, kernelSize: 3, padding: 'same', kernelInitializer: init(), name: `${name}_${n}` });
  let y = convThenLeaky(x, { filters: width, kernelSize: 3, leak, init: init(), name: `${name}_conv1`, actName: `${name}_act1` });
  y = conv('conv2').apply(y) as tf.SymbolicTensor;
  y = tf.layers.add({ name: `${name}_add` }).apply([x, y]) as tf.SymbolicTensor;
  return tf.layers.leakyReLU({ alpha: leak, name: `${name}_act2` }).apply(y) as tf.SymbolicTensor;
}

/**
 * The decoder's upscales on the shared code, each doubling the side (decoderWidths), with their
 * residual blocks: the features after each, smallest first. `count` builds only the first few.
 */
export function decoderUpscales(c: ModelConfig, code: tf.SymbolicTensor, init: () => Initializer, count = c.decoderWidths.length): tf.SymbolicTensor[] {
  const sides: tf.SymbolicTensor[] = [];
  let x = code;
  c.decoderWidths.slice(0, count).forEach((w, i) => {
    x = upscale(x, w, `dec_up${i + 1}`, c.leak, init);
    for (let r = 0; r < resBlocksAt(c, i); r++) x = residualBlock(x, `dec_res${i + 1}_${r + 1}`, c.leak, init);
    sides.push(x);
  });
  return sides;
}
