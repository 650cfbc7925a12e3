// Sub-pixel upscaling (Shi et al. 2016): a convolution makes 4x the channels, then depth-to-space
// moves each group of 4 channels into a 2x2 block of pixels. It doubles the image side without the
// checkerboard artefacts of transposed convolutions. Keras has no such layer, so this wraps
// tf.depthToSpace and registers itself so a saved model can be loaded again.

import * as tf from '@tensorflow/tfjs';

export interface PixelShuffleArgs {
  blockSize?: number;
  name?: string;
}

export class PixelShuffle extends tf.layers.Layer {
  static readonly className = 'PixelShuffle';
  readonly blockSize: number;

  constructor(args: PixelShuffleArgs = {}) {
    super({ name: args.name });
    this.blockSize = args.blockSize ?? 2;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [n, h, w, c] = inputShape as tf.Shape;
    const b = this.blockSize;
    return [n, h == null ? null : h * b, w == null ? null : w * b, c == null ? null : c / (b * b)];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.depthToSpace(x as tf.Tensor4D, this.blockSize, 'NHWC');
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), blockSize: this.blockSize };
  }
}

tf.serialization.registerClass(PixelShuffle);
