// Image quality metrics on tensors of images in [0, 1], one value per image. Built from
// differentiable ops, so SSIM also serves as a training loss term.
// Identity transfer and landmark error (face-api nets) belong to the swap metrics in lib/faces/.

import * as tf from '@tensorflow/tfjs';

/** Peak signal-to-noise ratio in dB per image: 10 log10(max^2 / MSE). [n, h, w, c] x2 -> [n]. */
export function psnr(a: tf.Tensor4D, b: tf.Tensor4D, maxVal = 1): tf.Tensor1D {
  return tf.tidy(() => {
    const mse = a.sub(b).square().mean([1, 2, 3]);
    return tf.log(tf.scalar(maxVal * maxVal).div(mse)).div(Math.LN10).mul(10) as tf.Tensor1D;
  });
}

export interface SsimOptions {
  /** Side of the Gaussian window; shrunk to the image side for small images. Default 11. */
  windowSize?: number;
  /** Standard deviation of the window. Default 1.5. */
  sigma?: number;
  maxVal?: number;
}

/** Normalised 1-D Gaussian weights. */
function gaussian(size: number, sigma: number): number[] {
  const c = (size - 1) / 2;
  const w = Array.from({ length: size }, (_, i) => Math.exp(-((i - c) ** 2) / (2 * sigma * sigma)));
  const sum = w.reduce((x, y) => x + y, 0);
  return w.map((v) => v / sum);
}

/**
 * Mean structural similarity per image (Wang et al. 2004, with the usual Gaussian 11x11 window,
 * sigma 1.5, K1 0.01, K2 0.03, 'valid' borders), averaged over channels. [n, h, w, c] x2 -> [n].
 */
export function ssim(a: tf.Tensor4D, b: tf.Tensor4D, options: SsimOptions = {}): tf.Tensor1D {
  return tf.tidy(() => ssimMap(a, b, options).reshape([a.shape[0], -1]).mean(1) as tf.Tensor1D);
}

/**
 * The local SSIM values behind `ssim`, one map per image and channel [n * c, h', w', 1]. Its plain
 * mean is the loss term: the same number as the mean of `ssim`, with a cheaper gradient.
 */
export function ssimMap(a: tf.Tensor4D, b: tf.Tensor4D, options: SsimOptions = {}): tf.Tensor4D {
  const { windowSize = 11, sigma = 1.5, maxVal = 1 } = options;
  const [n, h, w, c] = a.shape;
  const k = Math.min(windowSize, h, w);
  const c1 = (0.01 * maxVal) ** 2, c2 = (0.03 * maxVal) ** 2;
  return tf.tidy(() => {
    const g = gaussian(k, sigma);
    const gy = tf.tensor4d(g, [k, 1, 1, 1]);
    const gx = tf.tensor4d(g, [1, k, 1, 1]);
    // Channels into the batch, so one single-channel filter serves every channel (depthwise
    // convolution has no gradient kernel on wasm).
    const planes = (t: tf.Tensor4D) => t.transpose([0, 3, 1, 2]).reshape([n * c, h, w, 1]) as tf.Tensor4D;
    const blur = (t: tf.Tensor4D) => tf.conv2d(tf.conv2d(t, gy, 1, 'valid'), gx, 1, 'valid');
    const x = planes(a), y = planes(b);
    const mx = blur(x), my = blur(y);
    const sxx = blur(x.square()).sub(mx.square());
    const syy = blur(y.square()).sub(my.square());
    const sxy = blur(x.mul(y)).sub(mx.mul(my));
    const num = mx.mul(my).mul(2).add(c1).mul(sxy.mul(2).add(c2));
    const den = mx.square().add(my.square()).add(c1).mul(sxx.add(syy).add(c2));
    return num.div(den) as tf.Tensor4D;
  });
}

/**
 * Sharpness of each image: the variance of its Laplacian (grey levels 0-255, 4-neighbour kernel),
 * the usual focus measure, taken inside `masks` ([n, h, w, 1] weights in [0, 1]) when given, so
 * that a sharp background cannot make up for a blurred face. [n, h, w, 3] -> one number per image.
 */
export async function laplacianVariance(images: tf.Tensor4D, masks?: tf.Tensor4D): Promise<number[]> {
  const v = tf.tidy(() => {
    const [n, h, w] = images.shape;
    const grey = images.mean(3, true).mul(255) as tf.Tensor4D;
    const kernel = tf.tensor4d([0, 1, 0, 1, -4, 1, 0, 1, 0], [3, 3, 1, 1]);
    const lap = tf.conv2d(grey, kernel, 1, 'valid'); // [n, h-2, w-2, 1]
    // The mask's pixels under the Laplacian's (valid) output.
    const weight = masks ? masks.slice([0, 1, 1, 0], [n, h - 2, w - 2, 1]) : tf.onesLike(lap);
    const total = weight.sum([1, 2, 3]).add(1e-6);
    const m = lap.mul(weight).sum([1, 2, 3]).div(total);
    const m2 = lap.square().mul(weight).sum([1, 2, 3]).div(total);
    return m2.sub(m.square());
  });
  // Read back asynchronously: the webgpu backend has no synchronous read in Node.js.
  const out = Array.from(await v.data());
  v.dispose();
  return out;
}

/**
 * A scalar tensor's value, read asynchronously (the webgpu backend has no synchronous read in
 * Node.js); the tensor is disposed.
 */
export async function readScalar(t: tf.Tensor): Promise<number> {
  try {
    return (await t.data())[0]!;
  } finally {
    t.dispose();
  }
}
