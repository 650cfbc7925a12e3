// The 2018 decoder: upscales, then one 5x5 convolution paints every pixel, a sigmoid keeping the
// colours in [0, 1] (a 4th channel, the face mask, when the model has one). It can draw anything its
// person's faces showed (an open mouth, closed eyes), and after minutes of training it draws them soft.

import * as tf from '@tensorflow/tfjs';
import { decoderUpscales } from '../blocks';
import type { DecoderKind } from './decoder-kind';

export const painting: DecoderKind = {
  name: 'painting',
  summary: 'paints every pixel of the face from the code (the 2018 decoder)',
  build(c, code, init) {
    const sides = decoderUpscales(c, code, init);
    return tf.layers.conv2d({
      filters: c.mask ? 4 : 3,
      kernelSize: 5,
      padding: 'same',
      activation: 'sigmoid',
      kernelInitializer: init(),
      name: 'dec_out',
    }).apply(sides[sides.length - 1]!) as tf.SymbolicTensor;
  },
};
