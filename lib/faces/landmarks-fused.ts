// face-api's 68-point landmark net, with its biases and first ReLUs fused into the convolutions.
//
// The net is four dense blocks of separable convolutions (a depthwise 3x3, then a 1x1), each
// followed by a bias add, then an average pool and a dense layer. face-api runs each separable
// convolution as three kernels and each bias as one more; here the 1x1 convolution carries its
// bias (and, for a block's first layer, its ReLU) as one fused kernel. The additions between a
// block's layers keep face-api's order. Its own code still pads each face to a square and scales
// it to 112 px (toBatchTensor), and runs the dense layer and the mapping back to the crop
// (runNet on these features, postProcess). test/integration/faceapi-native.test.ts holds the landmarks to
// face-api's own detectLandmarks.

import * as tf from '@tensorflow/tfjs';
import { fromFaceApi, type FaceApi } from './faceapi';
import type { Point } from './types';

type LandmarkNet = FaceApi['nets']['faceLandmark68Net'];
type ExtractorParams = NonNullable<LandmarkNet['faceFeatureExtractor']['params']>;
type Block = ExtractorParams['dense0'];
type Separable = Block['conv1'];

const INPUT = 112;
// face-api's per-channel means of its training faces, subtracted before scaling to 0-1.
const MEAN_RGB = [122.782, 117.001, 104.298];

const t4 = (t: unknown) => fromFaceApi<tf.Tensor4D>(t);
const t1 = (t: unknown) => fromFaceApi<tf.Tensor1D>(t);

/** A separable convolution (depthwise 3x3, then 1x1) with its bias, optionally its ReLU. */
function separable(x: tf.Tensor4D, p: Separable, stride: 1 | 2, relu: boolean): tf.Tensor4D {
  const depthwise = tf.depthwiseConv2d(x, t4(p.depthwise_filter), stride, 'same');
  return tf.fused.conv2d({ x: depthwise, filter: t4(p.pointwise_filter), strides: 1, pad: 'valid', bias: t1(p.bias), activation: relu ? 'relu' : 'linear' });
}

function denseBlock(x: tf.Tensor4D, p: Block, first: boolean): tf.Tensor4D {
  const conv0 = p.conv0 as { filters: unknown; bias: unknown } & Partial<Separable>;
  const out1 = first
    ? tf.fused.conv2d({ x, filter: t4(conv0.filters), strides: 2, pad: 'same', bias: t1(conv0.bias), activation: 'relu' })
    : separable(x, p.conv0 as Separable, 2, true);
  const out2 = separable(out1, p.conv1, 1, false);
  const out3 = separable(tf.relu(tf.add(out1, out2)) as tf.Tensor4D, p.conv2, 1, false);
  const out4 = separable(tf.relu(tf.add(out1, tf.add(out2, out3))) as tf.Tensor4D, p.conv3, 1, false);
  return tf.relu(tf.add(out1, tf.add(out2, tf.add(out3, out4)))) as tf.Tensor4D;
}

/** The 68 landmarks of each face crop ([h, w, 3], 0-255), in that crop's pixels, as one batch. */
export async function cropLandmarksBatch(api: FaceApi, faces: tf.Tensor3D[]): Promise<Point[][]> {
  const net = api.nets.faceLandmark68Net;
  const params = net.faceFeatureExtractor.params;
  if (!params) throw new Error('the 68-point landmark net is not loaded');
  const input = await api.toNetInput(faces as unknown as Parameters<FaceApi['toNetInput']>[0]);
  const dims = input.inputDimensions.map(([height, width]) => ({ height: height!, width: width! }));
  const relative = tf.tidy(() => {
    const batch = tf.cast(input.toBatchTensor(INPUT, true) as unknown as tf.Tensor4D, 'float32');
    let x = tf.div(tf.sub(batch, tf.tensor1d(MEAN_RGB)), 255) as tf.Tensor4D;
    x = denseBlock(x, params.dense0, true);
    x = denseBlock(x, params.dense1, false);
    x = denseBlock(x, params.dense2, false);
    x = denseBlock(x, params.dense3, false);
    const features = tf.avgPool(x, [7, 7], [2, 2], 'valid');
    const out = net.runNet(features as unknown as Parameters<LandmarkNet['runNet']>[0]);
    return net.postProcess(out, INPUT, dims) as unknown as tf.Tensor2D;
  });
  const rows = await relative.array();
  relative.dispose();
  // (x, y) pairs relative to the crop, scaled by its size as face-api's FaceLandmarks68 does.
  return rows.map((row, i) => Array.from({ length: 68 }, (_, m): Point => [row[2 * m]! * dims[i]!.width, row[2 * m + 1]! * dims[i]!.height]));
}
