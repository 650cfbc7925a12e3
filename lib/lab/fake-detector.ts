// Spotting a fake: a small convolutional classifier that tells aligned crops of real photos from
// crops of this project's swaps. It trains with the project's own pieces (its Adam, its random
// streams, its model files), reports held-out accuracy and an ROC curve, and shows where it looks
// (gradient saliency: which pixels move its verdict most).
//
// What such a detector learns is the fingerprint of one pipeline: the decoder's blur, the blend
// edge, the colour matcher's cast. It says nothing about swaps made another way, and little
// about a better-trained model of the same kind; chapter 06 measures exactly that.

import * as tf from '@tensorflow/tfjs';
import { makeOptimizer } from '../train/step';
import { Rng } from '../util/rng';
import { saveLayersModel } from '../model/fs-io';

export interface LabelledFaces {
  /** size x size RGB bytes each. */
  pixels: Uint8Array[];
  /** 1: a swap, 0: a real photo. */
  labels: number[];
  size: number;
}

export interface DetectorTraining {
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
  /** Mirror each training face at random (a real face and its swap are both symmetric enough). */
  flip?: boolean;
  onEpoch?: (epoch: number, loss: number) => void;
}

/** Conv (3x3, stride 2) + LeakyReLU per width, global average pooling, one logit: P(swap) = sigmoid. */
export function buildFakeDetector(size: number, { widths = [16, 32, 64], seed = 1 } = {}): tf.LayersModel {
  const input = tf.input({ shape: [size, size, 3], name: 'face' });
  let x: tf.SymbolicTensor = input;
  widths.forEach((w, i) => {
    x = tf.layers.conv2d({ filters: w, kernelSize: 3, strides: 2, padding: 'same', name: `det_conv${i + 1}`, kernelInitializer: tf.initializers.heNormal({ seed: seed + i }) }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.leakyReLU({ alpha: 0.1, name: `det_act${i + 1}` }).apply(x) as tf.SymbolicTensor;
  });
  x = tf.layers.globalAveragePooling2d({ name: 'det_pool' }).apply(x) as tf.SymbolicTensor;
  const logit = tf.layers.dense({ units: 1, name: 'det_logit', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 99 }) }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logit, name: 'fake_detector' });
}

function toTensor(pixels: readonly Uint8Array[], size: number, flips?: boolean[]): tf.Tensor4D {
  const data = new Float32Array(pixels.length * size * size * 3);
  pixels.forEach((p, i) => {
    const off = i * size * size * 3;
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const sx = flips?.[i] ? size - 1 - x : x;
        for (let c = 0; c < 3; c++) data[off + (y * size + x) * 3 + c] = p[(y * size + sx) * 3 + c]! / 255;
      }
  });
  return tf.tensor4d(data, [pixels.length, size, size, 3]);
}

/** Train with binary cross-entropy on shuffled mini-batches; returns the mean loss of each epoch. */
export async function trainFakeDetector(model: tf.LayersModel, data: LabelledFaces, options: DetectorTraining = {}): Promise<number[]> {
  const { epochs = 80, batchSize = 16, learningRate = 3e-3, seed = 1, flip = true } = options;
  const n = data.pixels.length;
  if (n === 0) throw new Error('no faces to train the detector on');
  const rng = new Rng(seed);
  const optimizer: tf.Optimizer = makeOptimizer({ learningRate, beta1: 0.9, beta2: 0.999 });
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const losses: number[] = [];
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const order = rng.permutation(n);
      let sum = 0;
      for (let at = 0; at < n; at += batchSize) {
        const idx = order.slice(at, at + batchSize);
        const x = toTensor(idx.map((i) => data.pixels[i]!), data.size, flip ? idx.map(() => rng.next() < 0.5) : undefined);
        const y = tf.tensor2d(idx.map((i) => data.labels[i]!), [idx.length, 1]);
        const { value, grads } = tf.variableGrads(() => tf.losses.sigmoidCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor2D) as tf.Scalar, vars);
        optimizer.applyGradients(grads);
        sum += (await value.data())[0]! * idx.length;
        tf.dispose([x, y, value, ...Object.values(grads)]);
      }
      losses.push(sum / n);
      options.onEpoch?.(epoch + 1, sum / n);
    }
  } finally {
    optimizer.dispose();
  }
  return losses;
}

/** P(swap) per face. */
export async function predictFake(model: tf.LayersModel, pixels: readonly Uint8Array[], size: number): Promise<Float32Array> {
  const out = new Float32Array(pixels.length);
  for (let at = 0; at < pixels.length; at += 64) {
    const x = toTensor(pixels.slice(at, at + 64), size);
    const p = tf.tidy(() => tf.sigmoid(model.predict(x) as tf.Tensor2D));
    out.set((await p.data()) as Float32Array, at);
    tf.dispose([x, p]);
  }
  return out;
}

/** Share of faces whose P(swap) > 0.5 agrees with the label. */
export function accuracy(scores: ArrayLike<number>, labels: readonly number[]): number {
  let right = 0;
  for (let i = 0; i < labels.length; i++) if ((scores[i]! > 0.5 ? 1 : 0) === labels[i]) right++;
  return labels.length ? right / labels.length : NaN;
}

export interface Roc {
  /** False-positive and true-positive rates, from the strictest threshold to the most lenient. */
  fpr: number[];
  tpr: number[];
  /** Area under the curve: the chance that a random swap scores above a random real face. */
  auc: number;
}

/** The ROC curve of scores against labels (1 = positive), ties taken together. */
export function rocCurve(scores: ArrayLike<number>, labels: readonly number[]): Roc {
  const idx = labels.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const pos = labels.filter((l) => l === 1).length, neg = labels.length - pos;
  const fpr = [0], tpr = [0];
  let tp = 0, fp = 0;
  for (let k = 0; k < idx.length; k++) {
    if (labels[idx[k]!] === 1) tp++;
    else fp++;
    // One point per distinct score: tied faces move the curve together.
    if (k === idx.length - 1 || scores[idx[k + 1]!] !== scores[idx[k]!]) {
      fpr.push(neg ? fp / neg : 0);
      tpr.push(pos ? tp / pos : 0);
    }
  }
  let auc = 0;
  for (let i = 1; i < fpr.length; i++) auc += ((fpr[i]! - fpr[i - 1]!) * (tpr[i]! + tpr[i - 1]!)) / 2;
  return { fpr, tpr, auc };
}

/**
 * Where the detector looks: |d logit / d pixel|, the largest over the colour channels, averaged
 * over `samples` noisy copies of each face (SmoothGrad: a single gradient is speckled by the
 * stride-2 convolutions' grid) and blurred a little, then scaled to [0, 1] per face by its 99th
 * percentile. Bright pixels are those whose change would move the verdict most.
 */
export async function saliencyMaps(model: tf.LayersModel, pixels: readonly Uint8Array[], size: number, { samples = 8, noise = 0.05, blur = 1.5, seed = 1 } = {}): Promise<Float32Array[]> {
  const x = toTensor(pixels, size);
  const maps = tf.tidy(() => {
    const grad = tf.grad((inp: tf.Tensor) => (model.apply(inp) as tf.Tensor).sum());
    let sum = tf.zeros([pixels.length, size, size]) as tf.Tensor3D;
    for (let k = 0; k < samples; k++) sum = sum.add(grad(x.add(tf.randomNormal(x.shape, 0, noise, 'float32', seed + k))).abs().max(3));
    const r = Math.ceil(2 * blur);
    const taps = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * blur * blur)));
    const total = taps.reduce((p, q) => p + q, 0);
    const g = tf.tensor1d(taps.map((t) => t / total));
    // Separable Gaussian: along x, then along y.
    const img = sum.expandDims(3) as tf.Tensor4D;
    const smooth = tf.conv2d(tf.conv2d(img, g.reshape([1, 2 * r + 1, 1, 1]) as tf.Tensor4D, 1, 'same'), g.reshape([2 * r + 1, 1, 1, 1]) as tf.Tensor4D, 1, 'same');
    return smooth.squeeze([3]);
  });
  const data = (await maps.data()) as Float32Array;
  tf.dispose([x, maps]);
  return pixels.map((_, i) => {
    const m = data.slice(i * size * size, (i + 1) * size * size);
    const top = [...m].sort((p, q) => p - q)[Math.floor(0.99 * (m.length - 1))]! || 1e-12;
    return m.map((v) => Math.min(1, v / top));
  });
}

/** Save the detector (model.json and weights) into `dir`. */
export async function saveFakeDetector(model: tf.LayersModel, dir: string): Promise<void> {
  await saveLayersModel(model, dir);
}
