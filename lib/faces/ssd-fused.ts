// face-api's SSD MobileNet v1 face detector, run with fused layers.
//
// face-api runs each of its 35 convolutions as three or four kernels: the convolution, a batch
// norm or bias add, then a clip to 0-6 (relu6). Here every one is a single fused kernel
// (tf.fused.conv2d / depthwiseConv2d with bias and relu6): the depthwise layers' batch norms are
// folded into their filters and biases once, when the weights are first used. A large photo is
// padded to a square and scaled to 512 px in one resampling (tf.image.transform) instead of a
// zero-filled copy of the whole padded photo followed by a resize. Then the same box decoding, the
// same non-maximum suppression rule (tf.image.nonMaxSuppression, IoU 0.5) and the same mapping back
// to the photo as face-api's SsdMobilenetv1.locateFaces. test/integration/faceapi-native.test.ts holds the
// result to face-api's own pipeline: the same faces, boxes within 0.05 px (measured 0.0002).

import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap } from '@tensorflow/tfjs';
import { NATIVE_BACKEND, NativeBackend } from '../engine/native/native-backend';
import { SSD_INPUT_KERNEL, type SsdInputAttrs } from '../engine/native/kernels';
import { fromFaceApi, type FaceApi } from './faceapi';

type SsdNet = FaceApi['nets']['ssdMobilenetv1'];
type SsdParams = NonNullable<SsdNet['params']>;
type FaceDetection = InstanceType<FaceApi['FaceDetection']>;

/** One fused layer: convolution (or depthwise), bias, then relu6 or nothing. */
interface Layer {
  filter: tf.Tensor4D;
  bias: tf.Tensor1D;
  depthwise: boolean;
  relu6: boolean;
}

interface FusedSsd {
  /** conv_0, then the 13 depthwise / pointwise pairs of MobileNet v1, as a flat list. */
  backbone: Layer[];
  /** The eight extra layers of the prediction head. */
  extra: Layer[];
  /** Per feature map: box encodings and class scores. */
  predictors: Array<{ box: Layer; cls: Layer }>;
  /** Anchor boxes' centres and sizes, each [n], relative to the 512 px square. */
  anchors: { cy: tf.Tensor1D; cx: tf.Tensor1D; h: tf.Tensor1D; w: tf.Tensor1D };
}

// face-api's batch-norm epsilon for MobileNet's depthwise layers.
const EPSILON = 0.0010000000474974513;
export const SSD_INPUT = 512;

const asTensor4D = (t: unknown) => fromFaceApi<tf.Tensor4D>(t);
const asTensor1D = (t: unknown) => fromFaceApi<tf.Tensor1D>(t);

function foldDepthwise(p: SsdParams['mobilenetv1']['conv_1']['depthwise_conv']): Layer {
  return tf.tidy(() => {
    // batchNorm(x) = (x - mean) * scale / sqrt(var + eps) + offset: a per-channel multiply (into the
    // filter) plus a per-channel bias.
    const k = tf.mul(asTensor1D(p.batch_norm_scale), tf.rsqrt(tf.add(asTensor1D(p.batch_norm_variance), EPSILON)));
    const filter = tf.mul(asTensor4D(p.filters), tf.reshape(k, [1, 1, -1, 1])) as tf.Tensor4D;
    const bias = tf.sub(asTensor1D(p.batch_norm_offset), tf.mul(asTensor1D(p.batch_norm_mean), k)) as tf.Tensor1D;
    // Kept, should a caller ever run this inside a tidy of its own.
    return { filter: tf.keep(filter), bias: tf.keep(bias), depthwise: true, relu6: true };
  });
}

function pointwise(p: { filters: unknown; batch_norm_offset: unknown }): Layer {
  return { filter: asTensor4D(p.filters), bias: asTensor1D(p.batch_norm_offset), depthwise: false, relu6: true };
}

function linear(p: { filters: unknown; bias: unknown }): Layer {
  return { filter: asTensor4D(p.filters), bias: asTensor1D(p.bias), depthwise: false, relu6: false };
}

/** Anchors as (ymin, xmin, ymax, xmax) [1, n, 4] -> centres and sizes, computed as face-api does. */
function anchorCentres(corners: tf.Tensor3D): FusedSsd['anchors'] {
  return tf.tidy(() => {
    const [ymin, xmin, ymax, xmax] = tf.unstack(tf.transpose(tf.reshape(corners, [-1, 4]))) as tf.Tensor1D[];
    const h = tf.sub(ymax!, ymin!), w = tf.sub(xmax!, xmin!);
    const cy = tf.add(ymin!, tf.div(h, 2)), cx = tf.add(xmin!, tf.div(w, 2));
    return { cy: tf.keep(cy), cx: tf.keep(cx), h: tf.keep(h), w: tf.keep(w) } as FusedSsd['anchors'];
  });
}

const folded = new WeakMap<SsdParams, FusedSsd>();

function fuse(params: SsdParams): FusedSsd {
  const cached = folded.get(params);
  if (cached) return cached;
  const m = params.mobilenetv1, h = params.prediction_layer;
  const pairs = [m.conv_1, m.conv_2, m.conv_3, m.conv_4, m.conv_5, m.conv_6, m.conv_7, m.conv_8, m.conv_9, m.conv_10, m.conv_11, m.conv_12, m.conv_13];
  const fused: FusedSsd = {
    backbone: [pointwise(m.conv_0), ...pairs.flatMap((pair) => [foldDepthwise(pair.depthwise_conv), pointwise(pair.pointwise_conv)])],
    extra: [h.conv_0, h.conv_1, h.conv_2, h.conv_3, h.conv_4, h.conv_5, h.conv_6, h.conv_7].map(pointwise),
    predictors: [h.box_predictor_0, h.box_predictor_1, h.box_predictor_2, h.box_predictor_3, h.box_predictor_4, h.box_predictor_5].map((b) => ({
      box: linear(b.box_encoding_predictor),
      cls: linear(b.class_predictor),
    })),
    anchors: anchorCentres(params.output_layer.extra_dim as unknown as tf.Tensor3D),
  };
  folded.set(params, fused);
  return fused;
}

function run(layer: Layer, x: tf.Tensor4D, stride: 1 | 2): tf.Tensor4D {
  const activation = layer.relu6 ? 'relu6' : 'linear';
  return layer.depthwise
    ? tf.fused.depthwiseConv2d({ x, filter: layer.filter, strides: stride, pad: 'same', bias: layer.bias, activation })
    : tf.fused.conv2d({ x, filter: layer.filter, strides: stride, pad: 'same', bias: layer.bias, activation });
}

// Layers that halve the resolution: conv_0, and the depthwise layers of pairs 2, 4, 6 and 12 (pair k
// sits at 2k - 1 and 2k in the backbone list). The extra layers alternate strides 1 and 2.
const BACKBONE_STRIDE2 = new Set([0, 3, 7, 11, 23]);

/**
 * The photo ([h, w, 3], 0-255) padded at the bottom or right to a square and scaled to 512 px, as
 * face-api's toBatchTensor(512, false) does it (resizeBilinear of the zero-padded square).
 * A photo larger than 512 px is sampled straight from the photo: output pixel (x, y) reads the
 * padded square at (x, y) * side / 512, bilinear, zeros outside the photo (tf.image.transform).
 * That skips a zero-filled copy of the whole padded photo, and is exact: scaling down, no sample
 * reaches past the photo's last row or column except into the padding. Scaling up, samples near
 * the far edges do, where resizeBilinear repeats the edge and transform would blend in zeros, so
 * a small photo is padded and resized as face-api does (cheap at that size).
 */
export function squareInput(pixels: tf.Tensor3D): tf.Tensor4D {
  const [h, w] = pixels.shape;
  const side = Math.max(h, w);
  return tf.tidy(() => {
    const image = tf.expandDims(tf.cast(pixels, 'float32'), 0) as tf.Tensor4D;
    if (side < SSD_INPUT) {
      const square = tf.pad(image, [[0, 0], [0, side - h], [0, side - w], [0, 0]]);
      return tf.image.resizeBilinear(square, [SSD_INPUT, SSD_INPUT]);
    }
    const s = side / SSD_INPUT;
    return tf.image.transform(image, tf.tensor2d([[s, 0, 0, 0, s, 0, 0, 0]]), 'bilinear', 'constant', 0, [SSD_INPUT, SSD_INPUT]);
  });
}

/**
 * The net's input: squareInput scaled to [-1, 1] (x / 127.5 - 1). On native one compiled pass
 * does all of it, to the same bits (native/src/image.cc ssdInput): a 250 px photo's input took
 * 3.7 ms through pad, resize, divide and subtract, about 5% of its extraction.
 */
export function netInput(pixels: tf.Tensor3D): tf.Tensor4D {
  const backend = tf.backend();
  if (backend instanceof NativeBackend && tf.getKernel(SSD_INPUT_KERNEL, NATIVE_BACKEND) && backend.f32(pixels) && pixels.size > 0) {
    const attrs: SsdInputAttrs = { size: SSD_INPUT };
    return tf.engine().runKernel(SSD_INPUT_KERNEL, { image: pixels }, attrs as unknown as NamedAttrMap) as tf.Tensor4D;
  }
  return tf.tidy(() => tf.sub(tf.div(squareInput(pixels), 127.5), 1) as tf.Tensor4D);
}

/** Box corners [n, 4] (ymin, xmin, ymax, xmax, relative to the 512 px square) and scores [n]. */
export function ssdForward(params: SsdParams, pixels: tf.Tensor3D): { boxes: tf.Tensor2D; scores: tf.Tensor1D } {
  const net = fuse(params);
  return tf.tidy(() => {
    let x = netInput(pixels);
    let conv11: tf.Tensor4D | null = null;
    net.backbone.forEach((layer, i) => {
      x = run(layer, x, BACKBONE_STRIDE2.has(i) ? 2 : 1);
      if (i === 22) conv11 = x; // the pointwise layer of pair 11
    });
    const maps: tf.Tensor4D[] = [conv11!, x];
    net.extra.forEach((layer, i) => {
      x = run(layer, x, i % 2 === 1 ? 2 : 1);
      if (i % 2 === 1) maps.push(x);
    });
    const encodings = tf.concat(net.predictors.map((p, i) => tf.reshape(run(p.box, maps[i]!, 1), [-1, 4])), 0);
    const classes = tf.concat(net.predictors.map((p, i) => tf.reshape(run(p.cls, maps[i]!, 1), [-1, 3])), 0);
    // Box decoding (SSD's usual variances 10, 10, 5, 5) against each anchor's centre and size.
    // (Row slices of the transposed [4, n] are contiguous; column splits of [n, 4] ran 17 ms.)
    const [e0, e1, e2, e3] = tf.unstack(tf.transpose(encodings));
    const { cy, cx, h, w } = net.anchors;
    const midY = tf.add(tf.mul(tf.div(e0!, 10), h), cy), midX = tf.add(tf.mul(tf.div(e1!, 10), w), cx);
    const halfH = tf.div(tf.mul(tf.exp(tf.div(e2!, 5)), h), 2), halfW = tf.div(tf.mul(tf.exp(tf.div(e3!, 5)), w), 2);
    const boxes = tf.stack([tf.sub(midY, halfH), tf.sub(midX, halfW), tf.add(midY, halfH), tf.add(midX, halfW)], 1) as tf.Tensor2D;
    // Of the three class outputs, face-api reads class 1 as the face score.
    const scores = tf.sigmoid(tf.reshape(tf.slice(classes, [0, 1], [-1, 1]), [-1])) as tf.Tensor1D;
    return { boxes, scores };
  });
}

export interface LocateOptions {
  minConfidence: number;
  maxResults: number;
}

/** The faces in a photo ([h, w, 3], 0-255), as face-api's FaceDetection records in photo coordinates. */
export async function locateFaces(api: FaceApi, pixels: tf.Tensor3D, options: LocateOptions): Promise<FaceDetection[]> {
  const params = api.nets.ssdMobilenetv1.params;
  if (!params) throw new Error('SSD MobileNet v1 is not loaded');
  const { boxes, scores } = ssdForward(params, pixels);
  try {
    const keep = await tf.image.nonMaxSuppressionAsync(boxes, scores, options.maxResults, 0.5, options.minConfidence);
    const [picked, boxData, scoreData] = [await keep.array(), await boxes.data(), await scores.data()];
    keep.dispose();
    // face-api's mapping: the square's scale is undone per axis through the rounded size the photo
    // takes inside it, and boxes are clipped to the photo.
    const [height, width] = pixels.shape;
    const scale = SSD_INPUT / Math.max(width, height);
    const padX = SSD_INPUT / Math.round(width * scale), padY = SSD_INPUT / Math.round(height * scale);
    return picked.map((i) => {
      const [ymin, xmin, ymax, xmax] = boxData.subarray(4 * i, 4 * i + 4);
      const top = Math.max(0, ymin!) * padY, bottom = Math.min(1, ymax!) * padY;
      const left = Math.max(0, xmin!) * padX, right = Math.min(1, xmax!) * padX;
      return new api.FaceDetection(scoreData[i]!, new api.Rect(left, top, right - left, bottom - top), { width, height });
    });
  } finally {
    boxes.dispose();
    scores.dispose();
  }
}
