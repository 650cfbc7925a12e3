// Latent codes: the output of the encoder's dense `enc_latent` layer, a plain vector per face
// (latentSize numbers). That is the bottleneck every face must squeeze through, so it is what we
// project, interpolate and perturb. Decoding a code runs the rest of the encoder (enc_expand,
// reshape, the upscale) and then one identity's decoder.
//
// The encoder is a single chain of layers, so both halves are run by applying its layers in order
// to concrete tensors; no second model is built, and the weights stay the trained ones.

import * as tf from '@tensorflow/tfjs';
import { decoderOf, type Autoencoder } from '../model/builder';

export const LATENT_LAYER = 'enc_latent';

/** A latent code per row. */
export type Codes = number[][];

function split(ae: Autoencoder): { head: tf.layers.Layer[]; tail: tf.layers.Layer[] } {
  const layers = ae.encoder.layers.filter((l) => l.getClassName() !== 'InputLayer');
  const at = layers.findIndex((l) => l.name === LATENT_LAYER);
  if (at < 0) throw new Error(`the encoder has no "${LATENT_LAYER}" layer (layers: ${layers.map((l) => l.name).join(', ')})`);
  return { head: layers.slice(0, at + 1), tail: layers.slice(at + 1) };
}

function chain(layers: tf.layers.Layer[], x: tf.Tensor): tf.Tensor {
  return layers.reduce((t, layer) => layer.apply(t) as tf.Tensor, x);
}

/** Latent codes of faces [n, s, s, 3] in [0, 1], computed in batches to bound memory. */
export async function encodeLatent(ae: Autoencoder, faces: tf.Tensor4D, batch = 32): Promise<Codes> {
  const { head } = split(ae);
  const out: Codes = [];
  for (let i = 0; i < faces.shape[0]; i += batch) {
    const codes = tf.tidy(() => chain(head, faces.slice(i, Math.min(batch, faces.shape[0] - i))) as tf.Tensor2D);
    out.push(...((await codes.array()) as Codes));
    codes.dispose();
  }
  return out;
}

/** Faces [n, s, s, 3] in [0, 1] decoded from codes by `identity`'s decoder (mask channel dropped). */
export function decodeLatent(ae: Autoencoder, codes: Codes, identity: string): tf.Tensor4D {
  const { tail } = split(ae);
  const decoder = decoderOf(ae, identity);
  return tf.tidy(() => {
    const x = chain(tail, tf.tensor2d(codes, [codes.length, ae.config.latentSize]));
    const out = decoder.apply(x) as tf.Tensor4D;
    return out.slice([0, 0, 0, 0], [-1, -1, -1, 3]) as tf.Tensor4D;
  });
}
