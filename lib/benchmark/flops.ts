// Counting the useful arithmetic of a training step, to turn faces/s into GFLOP/s.
//
// Forward: a conv layer costs 2 * outH * outW * kh * kw * cin * cout per face (multiply + add),
// a dense layer 2 * in * out. Training costs about 3x forward: the forward pass, the gradient with
// respect to the input and the one with respect to the weights, each as large as the forward.
// (The first conv needs no input gradient; the difference is under 1% and ignored.)

import type * as tf from '@tensorflow/tfjs';
import type { Autoencoder } from '../model/builder';

/** Forward FLOPs per face of a layers model: its conv and dense layers. */
export function forwardFlops(model: tf.LayersModel): number {
  let total = 0;
  for (const layer of model.layers) {
    const kernel = layer.getWeights()[0];
    if (!kernel) continue;
    const cls = layer.getClassName();
    const out = layer.outputShape as number[];
    if (cls === 'Conv2D' || cls === 'ConvLeaky') {
      const [kh, kw, cin, cout] = kernel.shape;
      total += 2 * out[1] * out[2] * kh * kw * cin * cout;
    } else if (cls === 'Dense') {
      const [inputs, units] = kernel.shape;
      total += 2 * inputs * units;
    }
  }
  return total;
}

/** FLOPs of one training step of `facesPerStep` faces through the encoder and one decoder. */
export function trainStepFlops(ae: Autoencoder, identity: string, facesPerStep: number): number {
  return 3 * facesPerStep * (forwardFlops(ae.encoder) + forwardFlops(ae.decoders[identity]));
}
