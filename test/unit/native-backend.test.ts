// The native backend's compiled kernels, each checked against the cpu backend on random shapes,
// plus its Adam, its memory accounting and the output-array recycling.
// Skips (with the reason) when the set-up could not build the addon; fails instead in strict mode.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { FusedAdamOptimizer } from '../../lib/engine/native/adam';
import { fallbacks, NativeBackend } from '../../lib/engine/native/native-backend';
import { L1_MEAN, L1_MEAN_GRAD, LEAKY_RELU_GRAD, SSD_INPUT_KERNEL } from '../../lib/engine/native/kernels';
import { meanAbsoluteError } from '../../lib/engine/extra-kernels/l1-loss';
import { netInput } from '../../lib/faces/ssd-fused';
import { pixelTensor, tensorToImage } from '../../lib/util/image';
import { augmentFace, DEFAULT_AUGMENT, NO_AUGMENT, type AugmentOptions } from '../../lib/train/augment';
import { Rng } from '../../lib/util/rng';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { mulberry32, randInt } from '../helpers/rng';
import { nativeSkip } from '../helpers/strict';

const skip = nativeSkip();

before(async () => {
  if (!skip) await initBackend({ force: 'native' });
});

type Run = () => tf.Tensor | tf.Tensor[];
type RandomRun = (rand: () => number) => tf.Tensor | tf.Tensor[];

/** Run fn on one backend; every output comes back as plain numbers. */
async function on(backend: string, fn: Run): Promise<{ shape: number[]; values: Float32Array }[]> {
  await tf.setBackend(backend);
  const out = tf.tidy(fn);
  const list = Array.isArray(out) ? out : [out];
  const result = [];
  for (const t of list) result.push({ shape: t.shape, values: Float32Array.from(await t.data()) });
  tf.dispose(list);
  return result;
}

/**
 * Native and cpu agree to `tol` relative to the largest value, and native ran none of `kernels`
 * as a JavaScript fallback. fn draws its inputs from `rand`, seeded alike for both backends.
 */
async function agree(seed: number, fn: RandomRun, tol = 1e-4, kernels: string[] = []): Promise<void> {
  const ref = await on('cpu', () => fn(mulberry32(seed)));
  fallbacks.clear();
  const got = await on('native', () => fn(mulberry32(seed)));
  await tf.setBackend('native');
  for (const k of kernels) assert.equal(fallbacks.get(k) ?? 0, 0, `${k} fell back to JavaScript`);
  assert.equal(got.length, ref.length);
  for (const [i, r] of ref.entries()) {
    const g = got[i]!;
    assert.deepEqual(g.shape, r.shape, 'shape');
    let scale = 1e-6, worst = 0;
    for (let j = 0; j < r.values.length; j++) {
      scale = Math.max(scale, Math.abs(r.values[j]!));
      const d = Math.abs(r.values[j]! - g.values[j]!);
      if (!(d <= worst)) worst = d; // NaN-safe: a NaN difference becomes the worst
    }
    assert.ok(worst <= tol * scale, `output ${i}: max difference ${worst} exceeds ${tol} x ${scale}`);
  }
}

function randomTensor(rand: () => number, shape: number[]): tf.Tensor {
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1), shape);
}

test('setup: the native backend is chosen when forced and runs on oneDNN', { skip }, async () => {
  const choice = await initBackend({ force: 'native' });
  assert.equal(choice.backend, 'native');
  assert.match(choice.backends.native.reason, /oneDNN \d+\.\d+/);
  assert.ok(tf.backend() instanceof NativeBackend);
});

const PADS = ['same', 'valid'] as const;
const ACTIVATIONS = ['linear', 'relu', 'leakyrelu', 'sigmoid', 'relu6', 'elu'] as const;

/**
 * Random convolution case i (seeded): forward with bias and an activation, and both gradients of a
 * plain convolution (Conv2DBackpropInput, Conv2DBackpropFilter), native against cpu. Case
 * `dilated` has dilation 2, forward only: TensorFlow.js has no gradient for dilated convolutions.
 */
async function convCase(seed: number, i: number, maxSide: number, maxChannels: number, dilated: number): Promise<void> {
  const shapes = mulberry32(seed);
  const k = [1, 3, 5][i % 3]!, stride = 1 + (i % 2), pad = PADS[(i >> 1) % 2]!;
  const dilation = i === dilated ? 2 : 1;
  const n = randInt(shapes, 1, 3), h = randInt(shapes, k * dilation, maxSide), w = randInt(shapes, k * dilation, maxSide);
  const cin = randInt(shapes, 1, maxChannels), cout = randInt(shapes, 1, maxChannels);
  const activation = ACTIVATIONS[i % ACTIVATIONS.length]!;
  const strides = dilation > 1 ? 1 : stride;
  await agree(seed + 100, (rand) => {
    const x = randomTensor(rand, [n, h, w, cin]) as tf.Tensor4D;
    const f = randomTensor(rand, [k, k, cin, cout]) as tf.Tensor4D;
    const bias = randomTensor(rand, [cout]) as tf.Tensor1D;
    const y = tf.fused.conv2d({ x, filter: f, strides, pad, dilations: dilation, bias, activation, leakyreluAlpha: 0.1 });
    const [gx, gf] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, pad).square().sum())([x, f]);
    return [y, gx!, gf!];
  }, 1e-4, ['FusedConv2D', 'Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter']);
}

for (let i = 0; i < 12; i++) {
  test(`convolution forward and both gradients match cpu (random case ${i})`, { skip }, () => convCase(500 + i, i, 14, 9, 5));
}

// The filter gradient of a stride-1 convolution onto fewer than 8 channels from 16 or more (the
// decoders' last layer) is computed as the flipped gradient of the convolution the other way
// (native/src/conv.cc, SwappedFilterGradient): 'same' with odd and even filters (even ones pad
// one more at the bottom and right), 'valid', one and seven output channels, non-square photos.
for (const [i, [k, pad, cin, cout, h, w]] of ([[5, 'same', 16, 3, 12, 12], [4, 'same', 16, 3, 11, 9], [3, 'valid', 24, 1, 9, 13], [5, 'same', 20, 7, 8, 10]] as const).entries()) {
  test(`the filter gradient onto ${cout} channels from ${cin} (${k}x${k}, ${pad}), computed the other way round, matches cpu`, { skip }, () =>
    agree(1200 + i, (rand) => {
      const x = randomTensor(rand, [2, h, w, cin]) as tf.Tensor4D;
      const f = randomTensor(rand, [k, k, cin, cout]) as tf.Tensor4D;
      const [gx, gf] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, pad).square().sum())([x, f]);
      return [gx!, gf!];
    }, 1e-4, ['Conv2DBackpropInput', 'Conv2DBackpropFilter']));
}

// The forward pass onto 1-4 channels from a multiple of 16 at stride 1 has its own kernel
// (native/src/conv-few.cc): four pixels at a time inside the image, one by one near the edges
// (taps clipped), every activation, with and without bias; a photo narrower than the filter too.
for (const [i, [k, pad, cin, cout, h, w]] of ([[5, 'same', 16, 3, 13, 11], [3, 'valid', 32, 1, 9, 12], [4, 'same', 48, 4, 7, 10], [5, 'same', 16, 2, 6, 3]] as const).entries()) {
  test(`the forward pass onto ${cout} channels from ${cin} (${k}x${k}, ${pad}, ${h}x${w}) matches cpu with every activation`, { skip }, async () => {
    for (const [j, activation] of ACTIVATIONS.entries())
      await agree(1300 + 10 * i + j, (rand) => {
        const x = randomTensor(rand, [2, h, w, cin]) as tf.Tensor4D;
        const f = randomTensor(rand, [k, k, cin, cout]) as tf.Tensor4D;
        const bias = j % 2 ? undefined : (randomTensor(rand, [cout]) as tf.Tensor1D);
        return tf.fused.conv2d({ x, filter: f, strides: 1, pad, bias, activation, leakyreluAlpha: 0.1 });
      }, 1e-4, ['FusedConv2D']);
  });
}

// The input gradient skips zero-filling its output where every input pixel gets a write (stride
// at most the filter, no rows past the last window): recycled arrays full of NaN must not show
// through, there or where it still zero-fills (stride larger than the filter, skipped rows).
test('input gradients write every pixel: recycled output arrays full of NaN never show through', { skip }, async () => {
  const cases = [[3, 1, 'same'], [5, 2, 'same'], [3, 2, 'valid'], [1, 2, 'valid'], [2, 3, 'valid']] as const;
  for (const [k, stride, pad] of cases) {
    const x = tf.randomNormal([2, 10, 10, 8], 0, 1, 'float32', 3) as tf.Tensor4D;
    const f = tf.randomNormal([k, k, 8, 16], 0, 1, 'float32', 4) as tf.Tensor4D;
    const dyShape = tf.conv2d(x, f, stride, pad).shape;
    const dy = tf.randomNormal(dyShape, 0, 1, 'float32', 5) as tf.Tensor4D;
    const want = await on('cpu', () => tf.conv2dTranspose(dy, f, x.shape, stride, pad));
    await tf.setBackend('native');
    // Fill the pool with NaN arrays of dx's length (a native Add writes a recycled output).
    const nan = tf.fill(x.shape, NaN);
    tf.dispose([tf.add(nan, nan), tf.add(nan, nan), nan]);
    const got = tf.conv2dTranspose(dy, f, x.shape, stride, pad);
    const values = await got.data();
    let worst = 0;
    for (let j = 0; j < values.length; j++) {
      const d = Math.abs(values[j]! - want[0]!.values[j]!);
      if (!(d <= worst)) worst = d;
    }
    assert.ok(worst <= 1e-3, `${k}x${k} stride ${stride} ${pad}: max difference ${worst}`);
    tf.dispose([x, f, dy, got]);
  }
});

// The same on the im2col + matmul path, which the rule (native/src/conv-gemm.cc) keeps for deep
// layers on few pixels: forced here for every shape, paddings, strides and dilation included.
for (let i = 0; i < 12; i++) {
  test(`convolution forward and both gradients on the im2col + matmul path match cpu (random case ${i})`, { skip }, async () => {
    process.env.DEEPFAKE_CONV_GEMM = 'on';
    try {
      await convCase(700 + i, i, 12, 40, 7);
    } finally {
      delete process.env.DEEPFAKE_CONV_GEMM;
    }
  });
}

// A batch larger than the unrolled input's scratch is run a few images at a time, the filter
// gradient summed over the chunks: here one image per chunk (these seeds draw 3, 2 and 3 images).
for (const i of [0, 3, 4]) {
  test(`the im2col + matmul path run image by image (a tiny scratch bound) matches cpu (random case ${i})`, { skip }, async () => {
    process.env.DEEPFAKE_CONV_GEMM = 'on';
    process.env.DEEPFAKE_CONV_GEMM_CHUNK = '1';
    try {
      await convCase(900 + i, i + 1, 10, 24, -1);
    } finally {
      delete process.env.DEEPFAKE_CONV_GEMM;
      delete process.env.DEEPFAKE_CONV_GEMM_CHUNK;
    }
  });
}

test('the rule sends a 4x4 layer with 512 channels and a one-image 1x1 layer at 32x32 to im2col + matmul, a 64x64 RGB output layer and a 1x1 layer at 128x128 to oneDNN\'s convolution; bench reports which ran', { skip }, async () => {
  const addon = (tf.backend() as NativeBackend).addon;
  // The largest convolution so far is what cacheInfo reports: the output layer first, then a larger deep one.
  await agree(901, (rand) => tf.conv2d(randomTensor(rand, [8, 64, 64, 16]) as tf.Tensor4D, randomTensor(rand, [5, 5, 16, 3]) as tf.Tensor4D, 1, 'same'), 1e-4, ['Conv2D']);
  assert.doesNotMatch(addon.cacheInfo().largest.forward, /^im2col/);
  assert.match(addon.cacheInfo().largest.forward, /avx|jit|gemm|ref/);
  await agree(902, (rand) => tf.conv2d(randomTensor(rand, [4, 4, 4, 512]) as tf.Tensor4D, randomTensor(rand, [3, 3, 512, 512]) as tf.Tensor4D, 1, 'same'), 1e-4, ['Conv2D']);
  assert.match(addon.cacheInfo().largest.forward, /^im2col\+\w+:/);
  // One image at a time (face-api's SSD): a 1x1 layer at 32x32 takes the product, one at 128x128 not.
  tf.tidy(() => tf.conv2d(tf.ones([1, 32, 32, 512]) as tf.Tensor4D, tf.ones([1, 1, 512, 512]) as tf.Tensor4D, 1, 'same').dataSync());
  assert.match(addon.cacheInfo().largest.forward, /^im2col\+\w+:/);
  tf.tidy(() => tf.conv2d(tf.ones([1, 128, 128, 256]) as tf.Tensor4D, tf.ones([1, 1, 256, 256]) as tf.Tensor4D, 1, 'same').dataSync());
  assert.doesNotMatch(addon.cacheInfo().largest.forward, /^im2col/);
});

for (const mult of [1, 2]) {
  test(`depthwise convolution (multiplier ${mult}) matches cpu`, { skip }, async () => {
    await agree(40 + mult, (rand) => {
      const x = randomTensor(rand, [2, 11, 9, 5]) as tf.Tensor4D;
      const f = randomTensor(rand, [3, 3, 5, mult]) as tf.Tensor4D;
      return [tf.depthwiseConv2d(x, f, 2, 'same'), tf.depthwiseConv2d(x, f, 1, 'valid')];
    }, 1e-4, ['DepthwiseConv2dNative']);
  });
}

test('matrix products match cpu: transposes, batches, broadcast batch, bias and activation', { skip }, async () => {
  await agree(7, (rand) => {
    const out: tf.Tensor[] = [];
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const a = randomTensor(rand, ta ? [3, 7, 5] : [3, 5, 7]);
      const b = randomTensor(rand, tb ? [3, 4, 7] : [3, 7, 4]);
      out.push(tf.matMul(a, b, ta, tb));
    }
    out.push(tf.matMul(randomTensor(rand, [2, 6, 3]), randomTensor(rand, [1, 3, 5]))); // batch of 1 broadcasts
    for (const activation of ACTIVATIONS) {
      const a = randomTensor(rand, [9, 33]) as tf.Tensor2D, b = randomTensor(rand, [33, 17]) as tf.Tensor2D;
      out.push(tf.fused.matMul({ a, b, bias: randomTensor(rand, [17]), activation, leakyreluAlpha: 0.3 }));
    }
    // A bias of one value broadcasts over every column.
    const a = randomTensor(rand, [4, 9]) as tf.Tensor2D, b = randomTensor(rand, [9, 6]) as tf.Tensor2D;
    out.push(tf.fused.matMul({ a, b, bias: randomTensor(rand, [1]), activation: 'relu' }));
    // Few rows against a transposed matrix (a dense layer's input gradient) run as C^T = B . A^T,
    // batched and broadcast too; with a bias they keep the direct product.
    out.push(tf.matMul(randomTensor(rand, [16, 40]), randomTensor(rand, [300, 40]), false, true));
    out.push(tf.matMul(randomTensor(rand, [2, 5, 33]), randomTensor(rand, [1, 257, 33]), false, true));
    out.push(tf.fused.matMul({ a: randomTensor(rand, [3, 20]) as tf.Tensor2D, b: randomTensor(rand, [256, 20]) as tf.Tensor2D, transposeB: true, bias: randomTensor(rand, [256]) }));
    return out;
  }, 1e-4, ['BatchMatMul', '_FusedMatMul']);
});

test('element-wise ops match cpu, including every supported broadcast', { skip }, async () => {
  const shape = [2, 5, 6, 7];
  await agree(8, (rand) => {
    const a = randomTensor(rand, shape);
    const out: tf.Tensor[] = [];
    for (const other of [shape, [7], [6, 7], [1, 1, 7], []]) {
      const b = other.length ? randomTensor(rand, other) : tf.scalar(0.37);
      out.push(tf.add(a, b), tf.sub(b, a), tf.mul(a, b), tf.div(a, b.add(3)), tf.maximum(a, b), tf.minimum(b, a), tf.squaredDifference(a, b));
      out.push(tf.greater(a, b).cast('float32'), tf.lessEqual(b, a).cast('float32'), tf.equal(a, a).cast('float32'));
      out.push(tf.where(tf.greater(a, 0), a, tf.mul(a, b)));
    }
    out.push(tf.abs(a), tf.neg(a), tf.square(a), tf.sqrt(a.abs()), tf.rsqrt(a.abs().add(1)), tf.exp(a), tf.log(a.abs().add(0.1)));
    out.push(tf.sigmoid(a), tf.tanh(a), tf.relu(a), tf.leakyRelu(a, 0.13), tf.step(a, 0.25), tf.sign(a), tf.reciprocal(a.add(3)));
    out.push(tf.relu6(a.mul(8)), tf.elu(a));
    return out;
  }, 1e-5, ['Add', 'Sub', 'Multiply', 'RealDiv', 'Maximum', 'Minimum', 'SquaredDifference', 'Greater', 'LessEqual', 'Equal', 'Select',
    'Abs', 'Neg', 'Square', 'Sqrt', 'Rsqrt', 'Exp', 'Log', 'Sigmoid', 'Tanh', 'Relu', 'LeakyRelu', 'Step', 'Sign', 'Reciprocal', 'Relu6', 'Elu']);
});

test('a broadcast the compiled kernels do not handle falls back to JavaScript with the right answer', { skip }, async () => {
  await agree(9, (rand) => tf.add(randomTensor(rand, [4, 1, 3]), randomTensor(rand, [1, 5, 1])));
  assert.ok((fallbacks.get('Add') ?? 0) > 0, 'the [4,1,3] + [1,5,1] broadcast went to the cpu kernel');
});

test('sums, means, transposes and depth-to-space match cpu', { skip }, async () => {
  await agree(10, (rand) => {
    const x = randomTensor(rand, [3, 4, 5, 6]);
    const out: tf.Tensor[] = [];
    for (const axis of [undefined, 0, 3, [0, 1, 2], [1, 2], [2, 3], [1]] as const) {
      out.push(tf.sum(x, axis as number | number[] | undefined), tf.mean(x, axis as number | number[] | undefined, true));
    }
    for (const perm of [[0, 2, 1, 3], [3, 2, 1, 0], [1, 0, 3, 2], [0, 1, 3, 2]]) out.push(tf.transpose(x, perm));
    out.push(tf.transpose(randomTensor(rand, [2, 3, 2, 4, 2, 3]), [0, 1, 3, 2, 4, 5]));
    out.push(tf.depthToSpace(randomTensor(rand, [2, 3, 4, 12]) as tf.Tensor4D, 2));
    return out;
  }, 1e-5, ['Sum', 'Mean', 'Transpose', 'DepthToSpace']);
});

test('fused Adam follows TensorFlow.js Adam on cpu step for step', { skip }, async () => {
  const rand = mulberry32(11);
  // 70,001 values: the compiled loop's threaded, vectorised path with a remainder; 300 and 7: one thread.
  const init = [300, 7, 70_001].map((n) => Float32Array.from({ length: n }, () => rand() - 0.5));
  const targets = init.map((a) => Float32Array.from(a, () => rand()));
  const train = async (backend: string, opt: tf.Optimizer): Promise<Float32Array[]> => {
    await tf.setBackend(backend);
    const vars = init.map((a, i) => tf.variable(tf.tensor(a.slice()), true, `adam_${backend}_${i}`));
    for (let s = 0; s < 6; s++) {
      const loss = opt.minimize(() => tf.addN(vars.map((v, i) => v.sub(tf.tensor(targets[i]!)).abs().sum())) as tf.Scalar, true);
      loss?.dispose();
    }
    const out = vars.map((v) => Float32Array.from(v.dataSync()));
    tf.dispose(vars);
    opt.dispose();
    return out;
  };
  const ref = await train('cpu', tf.train.adam(0.01, 0.5, 0.999));
  const got = await train('native', new FusedAdamOptimizer(0.01, 0.5, 0.999));
  for (const [i, r] of ref.entries()) for (let j = 0; j < r.length; j++) assert.ok(Math.abs(r[j]! - got[i]![j]!) < 1e-6, `var ${i}[${j}]`);
});

test('dataSync hands out a snapshot: an in-place Adam update does not change it afterwards', { skip }, async () => {
  await tf.setBackend('native');
  const v = tf.variable(tf.ones([64]));
  const opt = new FusedAdamOptimizer(0.1, 0.5, 0.999);
  const step = () => opt.minimize(() => v.sum() as tf.Scalar);
  step();
  step(); // the second update runs in place on arrays the first one allocated
  const before = v.dataSync();
  const copy = Float32Array.from(before);
  step();
  assert.deepEqual(before, copy, 'the earlier snapshot is unchanged');
  assert.notDeepEqual(Float32Array.from(v.dataSync()), copy, 'the variable itself moved');
  v.dispose();
  opt.dispose();
});

test('native memory is released: tensor count and bytes return to where they were, and the recycled arrays are freed', { skip }, async () => {
  await tf.setBackend('native');
  const backend = tf.backend() as NativeBackend;
  backend.releasePool();
  v8.setFlagsFromString('--expose-gc');
  const collect = vm.runInNewContext('gc') as () => void;
  // Array buffers are freed by the collector's sweeper, after the collection itself: give it time.
  const gc = async () => {
    for (let i = 0; i < 4; i++) {
      collect();
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await gc();
  const base = { tensors: tf.memory().numTensors, bytes: tf.memory().numBytes, arrayBuffers: process.memoryUsage().arrayBuffers };
  const big: tf.Tensor[] = [];
  for (let i = 0; i < 8; i++) big.push(tf.tidy(() => tf.conv2d(tf.ones([4, 64, 64, 16]) as tf.Tensor4D, tf.ones([3, 3, 16, 32]) as tf.Tensor4D, 1, 'same').add(1)));
  assert.equal(tf.memory().numTensors, base.tensors + 8);
  assert.equal(tf.memory().numBytes, base.bytes + 8 * 4 * 64 * 64 * 32 * 4);
  tf.dispose(big);
  assert.equal(tf.memory().numTensors, base.tensors, 'tensor count back to the start');
  assert.equal(tf.memory().numBytes, base.bytes, 'tensor bytes back to the start');
  assert.ok(backend.poolBytes() > 0, 'disposed outputs are kept for reuse');
  backend.releasePool();
  assert.equal(backend.poolBytes(), 0);
  await gc();
  const grown = process.memoryUsage().arrayBuffers - base.arrayBuffers;
  assert.ok(grown < 4 * 1024 * 1024, `array memory after release grew by ${grown} bytes (8 outputs were ${8 * 2} MB)`);
});

test('a batch of image transforms on native equals the cpu kernel applied image by image (which stops after the first image of a batch)', { skip }, async () => {
  const rand = mulberry32(12);
  const [h, w, c] = [9, 7, 2];
  const image = Float32Array.from({ length: 3 * h * w * c }, () => rand());
  const matrices = [[1, 0, 2, 0, 1, 0, 0, 0], [0.9, 0.1, -1, -0.1, 0.9, 1, 0, 0], [1, 0, 0, 0, 1, -2, 0.01, 0]];
  const transform = (x: Float32Array, n: number, m: number[][]) =>
    tf.tidy(() => tf.image.transform(tf.tensor4d(x, [n, h, w, c]), tf.tensor2d(m), 'bilinear', 'reflect').dataSync());
  await tf.setBackend('cpu');
  const want = matrices.flatMap((m, i) => Array.from(transform(image.subarray(i * h * w * c, (i + 1) * h * w * c), 1, [m])));
  await tf.setBackend('native');
  const got = transform(image, 3, matrices);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(want[i]! - got[i]!) < 1e-6, `element ${i}: ${got[i]} vs ${want[i]}`);
});

test('a slice that views a disposed output keeps its values while later kernels run', { skip }, async () => {
  await tf.setBackend('native');
  // The cpu Slice kernel returns a view into its input's array; recycling that array on the
  // input's disposal would let the next output overwrite the slice.
  const source = tf.tidy(() => tf.ones([4, 8]).mul(tf.scalar(3)));
  const view = tf.tidy(() => source.slice([0, 0], [2, 8]));
  source.dispose();
  for (let i = 0; i < 5; i++) tf.tidy(() => tf.ones([4, 8]).mul(tf.scalar(-1)).dataSync());
  assert.deepEqual(Array.from(view.dataSync()), Array(16).fill(3));
  view.dispose();
});

test('the LeakyRelu gradient is one compiled kernel on native (no Greater, Multiply, Select) and matches cpu, zeros included', { skip }, async () => {
  const shape = [3, 8, 8, 5];
  const run = (rand: () => number) => {
    // A tenth of the inputs exactly 0: the gradient there is alpha * dy, as TensorFlow.js has it.
    const x = tf.tensor(Float32Array.from({ length: 960 }, () => (rand() < 0.1 ? 0 : rand() * 2 - 1)), shape);
    return tf.grad((t: tf.Tensor) => tf.leakyRelu(t, 0.3))(x, randomTensor(rand, shape));
  };
  await agree(21, run, 0, [LEAKY_RELU_GRAD]);
  await tf.setBackend('native');
  const profile = await tf.profile(() => run(mulberry32(21)));
  assert.ok(profile.kernelNames.includes(LEAKY_RELU_GRAD), profile.kernelNames.join(', '));
  for (const k of ['Greater', 'Select', 'Multiply']) assert.ok(!profile.kernelNames.includes(k), `${k} ran: ${profile.kernelNames.join(', ')}`);
  // Other backends keep TensorFlow.js's formula: on cpu the same gradient runs Greater and Select.
  await tf.setBackend('cpu');
  const cpu = await tf.profile(() => run(mulberry32(21)));
  assert.ok(cpu.kernelNames.includes('Select') && !cpu.kernelNames.includes(LEAKY_RELU_GRAD));
  await tf.setBackend('native');
});

// The kernels face-api's nets and the face pipeline lean on (see native/src/layout.cc, image.cc).
test('slices, concatenations, pads, tiles, max and average pools, clips, roundings (halves to even), batch norms and fills match cpu, int32 and int32-backed float32 inputs included', { skip }, async () => {
  await agree(21, (rand) => {
    const x = randomTensor(rand, [2, 9, 8, 3]);
    const out: tf.Tensor[] = [];
    // Strided boxes (copied) and contiguous ranges (the cpu kernel's view), rank 1 to 6.
    out.push(tf.slice(x, [0, 2, 1, 0], [2, 5, 6, 3]), tf.slice(x, [1, 3, 0, 1], [1, -1, 8, 2]), tf.slice(x, [1, 0, 0, 0], [1, 9, 8, 3]));
    out.push(tf.slice(randomTensor(rand, [3, 2, 4, 2, 3, 2]), [1, 0, 1, 0, 1, 0], [2, 2, 2, 2, 2, 1]), tf.slice(randomTensor(rand, [17]), [3], [9]));
    for (const axis of [0, 1, 2, 3, -1]) out.push(tf.concat([x, tf.mul(x, 2), tf.slice(x, [0, 0, 0, 0], [2, 9, 8, 3])], axis));
    out.push(tf.concat([tf.zeros([2, 0, 8, 3]), x], 1));
    // An int32 image as face-api sees it: cast to float32 (an Int32Array under a float32 tensor on cpu).
    const pixels = tf.tensor3d(Int32Array.from({ length: 6 * 5 * 3 }, () => Math.floor(rand() * 256)), [6, 5, 3], 'int32');
    const asFloat = tf.cast(pixels, 'float32');
    out.push(asFloat, tf.slice(asFloat, [1, 1, 0], [3, 3, 3]), tf.concat([asFloat, tf.zeros([2, 5, 3])], 0), tf.div(asFloat, 255));
    out.push(tf.cast(tf.concat([tf.slice(pixels, [0, 1, 0], [6, 2, 3]), pixels], 1), 'float32'));
    out.push(tf.clipByValue(x, -0.3, 0.6), tf.clipByValue(tf.mul(x, 8), 0, 6));
    const c = 3, p = (lo: number) => tf.add(randomTensor(rand, [c]).abs(), lo);
    out.push(tf.batchNorm(x, randomTensor(rand, [c]), p(0.1), randomTensor(rand, [c]), p(0.5), 0.001));
    out.push(tf.batchNorm(x, randomTensor(rand, [c]), p(0.1)), tf.batchNorm(x, tf.scalar(0.2), tf.scalar(2), undefined, tf.scalar(3), 1e-3));
    out.push(tf.tile(x, [1, 2, 1, 3]), tf.tile(tf.slice(x, [0, 0, 0, 0], [1, 5118 % 9, 8, 3]), [2, 1, 1, 1]), tf.cast(tf.tile(pixels, [2, 1, 2]), 'float32'));
    out.push(tf.round(tf.mul(x, 7.5)), tf.round(tf.tensor1d([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, -2.5001])));
    out.push(tf.pad(x, [[0, 1], [2, 0], [1, 3], [0, 0]], 0.5), tf.pad(tf.slice(x, [0, 0, 0, 0], [1, 2, 8, 3]), [[1, 1], [0, 0], [0, 2], [1, 0]]));
    for (const [k, st, padding] of [[2, 2, 'valid'], [3, 2, 'same'], [3, 1, 'same'], [2, 1, 'valid'], [5, 3, 'same']] as const)
      out.push(tf.maxPool(x as tf.Tensor4D, k, st, padding), tf.avgPool(x as tf.Tensor4D, k, st, padding));
    out.push(tf.fill([3, 4, 5], 0.7), tf.add(tf.fill([2, 3], -2), x.slice([0, 0, 0, 0], [1, 1, 2, 3]).reshape([2, 3])));
    return out;
  }, 1e-6, ['Slice', 'Concat', 'ClipByValue', 'FusedBatchNorm', 'Fill', 'Cast', 'RealDiv', 'Tile', 'Round', 'PadV2', 'MaxPool', 'AvgPool']);
});

test('row gathers and their scatter-add gradient (repeated indices summed) match cpu; an index out of range is refused by the cpu kernel with its message', { skip }, async () => {
  await agree(23, (rand) => {
    const params = randomTensor(rand, [37, 3]);
    const indices = tf.tensor2d(Int32Array.from({ length: 50 }, () => Math.floor(rand() * 37)), [25, 2], 'int32');
    const rows = randomTensor(rand, [12, 4, 2]);
    const out: tf.Tensor[] = [tf.gather(params, indices), tf.gather(rows, tf.tensor1d([11, 0, 0, 5], 'int32'))];
    const updates = randomTensor(rand, [50, 3]);
    out.push(tf.scatterND(indices.reshape([50, 1]), updates, [37, 3]));
    // The gradient of a gather is a scatter-add onto the rows read.
    out.push(tf.grad((p: tf.Tensor) => tf.gather(p, indices).mul(updates.reshape([25, 2, 3])).sum())(params));
    return out;
  }, 1e-6, ['GatherV2', 'ScatterNd']);
  assert.throws(() => tf.tidy(() => tf.gather(tf.ones([3, 2]), tf.tensor1d([3], 'int32')).dataSync()), /out of bounds|not in \[0, 2\]|index/i);
});

test('the backend\'s output arrays of 1024 floats and more start on a 64-byte boundary, recycled ones too', { skip }, () => {
  const backend = tf.backend() as NativeBackend;
  const addon = backend.addon;
  for (const n of [1024, 5000, 65536, 1 << 20]) {
    for (let round = 0; round < 2; round++) {
      const { info, values } = backend.output([n]);
      assert.equal((addon.addressMod64(values.buffer as ArrayBuffer) + values.byteOffset) % 64, 0, `${n} floats, round ${round}`);
      assert.equal(values.length, n);
      backend.disposeData(info.dataId);
    }
  }
});

// Augmentation's pixel loop runs compiled on native (native/src/augment.cc) and in JavaScript
// elsewhere, from the same random draws: both must give the same batch, maps included.
test('augmentation on native equals the JavaScript loop: warp, no warp, flips, maps, another input source, colour jitter, a later face of the batch', { skip }, async () => {
  const size = 40, n = 3;
  const rand = mulberry32(77);
  const face = () => Uint8Array.from({ length: size * size * 3 }, () => Math.floor(rand() * 256));
  const [a, b] = [face(), face()];
  const mapOf = () => Float32Array.from({ length: size * size }, () => rand());
  const [m1, m2] = [mapOf(), mapOf()];
  const cases: Array<[string, AugmentOptions, boolean]> = [
    ['default', DEFAULT_AUGMENT, false],
    ['no augmentation', NO_AUGMENT, false],
    ['always flipped, strong warp', { ...DEFAULT_AUGMENT, flip: 1, warpScale: 0.1, warpGrid: 7 }, false],
    ['transform without warp, other input', { ...DEFAULT_AUGMENT, warpScale: 0 }, true],
    ['warp, other input, colour jitter', { ...DEFAULT_AUGMENT, colourJitter: 0.2 }, true],
  ];
  for (const [name, opts, other] of cases) {
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      const input = new Float32Array(n * size * size * 3).fill(-1), target = new Float32Array(n * size * size * 3).fill(-1);
      const d1 = new Float32Array(n * size * size).fill(-1), d2 = new Float32Array(n * size * size).fill(-1);
      const rng = new Rng(5);
      for (const at of [0, 2]) augmentFace(at ? b : a, size, rng, opts, { input, target, at, inputSource: other ? b : undefined, maps: [{ src: m1, dst: d1 }, { src: m2, dst: d2 }] });
      return { arrays: [input, target, d1, d2], next: rng.next() };
    };
    const js = await run('cpu'), native = await run('native');
    assert.equal(native.next, js.next, `${name}: the random stream moved differently`);
    for (const [i, want] of js.arrays.entries()) {
      const got = native.arrays[i]!;
      let worst = 0;
      for (let j = 0; j < want.length; j++) worst = Math.max(worst, Math.abs(got[j]! - want[j]!));
      assert.ok(worst <= 1e-6, `${name}: array ${i} differs by ${worst}`);
    }
  }
  await tf.setBackend('native');
});

test('pixelTensor on native: the photo bytes as float32, converted by the addon into the backend\'s recycled arrays', { skip }, async () => {
  await tf.setBackend('native');
  const img = { width: 61, height: 37, data: Uint8Array.from({ length: 61 * 37 * 3 }, (_, i) => (i * 13) % 256) };
  const first = pixelTensor(img);
  assert.deepEqual(first.shape, [37, 61, 3]);
  assert.equal(first.dtype, 'float32');
  assert.deepEqual(first.dataSync(), Float32Array.from(img.data));
  const buffer = (tf.backend() as NativeBackend).f32(first as unknown as TensorInfo)?.buffer;
  first.dispose();
  // A second photo of the same size is written into the first one's memory (no new allocation).
  const second = pixelTensor({ ...img, data: img.data.map((v) => 255 - v) });
  assert.ok(buffer && (tf.backend() as NativeBackend).f32(second as unknown as TensorInfo)?.buffer === buffer, 'the array was recycled');
  assert.deepEqual(second.dataSync(), Float32Array.from(img.data, (v) => 255 - v));
  second.dispose();
});

test('image transforms (bilinear and nearest, every fill mode, projective, other output sizes) and bilinear resizes match cpu', { skip }, async () => {
  const modes = ['constant', 'reflect', 'wrap', 'nearest'] as const;
  await agree(22, (rand) => {
    const image = randomTensor(rand, [1, 11, 13, 3]) as tf.Tensor4D;
    const out: tf.Tensor[] = [];
    const matrices = [[1.1, 0.2, -3.5, -0.15, 0.95, 2.25, 0, 0], [0.5, 0, 0.25, 0, 0.5, 0.25, 0, 0], [1, 0.05, 1, 0.02, 1, -1, 0.004, -0.003], [-1, 0, 12, 0, 1, 0, 0, 0]];
    for (const m of matrices)
      for (const mode of modes)
        for (const interp of ['bilinear', 'nearest'] as const) out.push(tf.image.transform(image, tf.tensor2d([m]), interp, mode, 0.25, [9, 15]));
    for (const [oh, ow] of [[5, 7], [23, 29], [11, 13], [1, 1]] as const)
      for (const align of [false, true]) for (const half of [false, true]) if (!(align && half)) out.push(tf.image.resizeBilinear(image, [oh, ow], align, half));
    return out;
  }, 1e-5, ['Transform', 'ResizeBilinear']);
});

test("the SSD's input on native is one compiled pass, equal to the bit to pad + resize (or transform), divide and subtract on cpu", { skip }, async () => {
  // Smaller than 512 px (resized up, square or not), 512 exactly, larger (sampled down), and thin.
  for (const [h, w] of [[250, 250], [200, 300], [300, 180], [512, 512], [511, 40], [700, 400], [1398, 1920], [1, 1], [2000, 3]] as const) {
    const pixels = (rand: () => number) => tf.tensor3d(Float32Array.from({ length: h * w * 3 }, () => Math.floor(rand() * 256)), [h, w, 3]);
    await agree(h * 7919 + w, (rand) => netInput(pixels(rand)), 0);
  }
  const photo = tf.tensor3d(Float32Array.from({ length: 20 * 30 * 3 }, (_, i) => i % 256), [20, 30, 3]);
  const { kernels } = await tf.profile(() => netInput(photo));
  photo.dispose();
  assert.deepEqual(kernels.map((k) => k.name), [SSD_INPUT_KERNEL]);
});

test('the L1 loss on native is one kernel and its gradient another, equal to Sub, Abs and Mean on cpu (the gradient to the bit)', { skip }, async () => {
  const shape = [4, 9, 7, 3];
  const lossAndGrads = (rand: () => number) => {
    const a = randomTensor(rand, shape), b = randomTensor(rand, shape);
    // Equal elements too: Abs's gradient there is -dy in TensorFlow.js, and must stay so.
    const bEqual = tf.where(tf.less(tf.randomUniform(shape, 0, 1, 'float32', 7), 0.1), a, b);
    return tf.valueAndGrads((x: tf.Tensor, y: tf.Tensor) => tf.mul(meanAbsoluteError(x, y), 3))([a, bEqual]);
  };
  // The loss is summed in another order (in double), the gradients are the same arithmetic.
  await agree(11, (rand) => lossAndGrads(rand).value, 1e-6, [L1_MEAN]);
  await agree(11, (rand) => lossAndGrads(rand).grads, 0, [L1_MEAN_GRAD]);
  const a = tf.randomNormal(shape), b = tf.randomNormal(shape);
  const { kernels } = await tf.profile(() => tf.grad((x: tf.Tensor) => meanAbsoluteError(x, b))(a));
  const names = kernels.map((k) => k.name);
  assert.ok(names.includes(L1_MEAN) && names.includes(L1_MEAN_GRAD), `ran ${names.join(', ')}`);
  assert.ok(!names.includes('Abs') && !names.includes('Step'), `ran ${names.join(', ')}`);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++)
    tf.tidy(() => {
      tf.grad((x: tf.Tensor) => meanAbsoluteError(x, b))(a);
    });
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  tf.dispose([a, b]);
});

test('tensorToImage on native converts the tensor\'s own array, byte for byte as the JavaScript loop on cpu (NaN, infinities, halves, out of range; 1 and 3 channels)', { skip }, async () => {
  const special = [NaN, -Infinity, Infinity, -0, 0, -1, 0.5, 1.5, 2.5, 127.5, 254.5, 255, 255.5, 256, 1e-7];
  for (const range of [1, 255] as const)
    for (const channels of [1, 3]) {
      const rand = mulberry32(range + channels);
      const values = Float32Array.from({ length: 20 * 30 * channels }, (_, i) =>
        i < special.length ? special[i]! / (255 / range) : i < 300 ? (randInt(rand, 0, 255) + 0.5) / (255 / range) : (rand() * 1.4 - 0.2) * range);
      const image = async (backend: string) => {
        await tf.setBackend(backend);
        const t = tf.tensor3d(values, [20, 30, channels]);
        try {
          return (await tensorToImage(t, range)).data;
        } finally {
          t.dispose();
        }
      };
      const want = await image('cpu');
      const got = await image('native');
      assert.deepEqual(got, want, `range ${range}, ${channels} channel(s)`);
    }
  const addon = (tf.backend() as NativeBackend).addon;
  assert.throws(() => addon.f32ToBytes(new Float32Array(4), 255, 1, new Uint8Array(11)), /f32ToBytes: out: array has 11 elements, needs 12/);
  assert.throws(() => addon.f32ToBytes(new Float32Array(4), 255, 2, new Uint8Array(4)), /f32ToBytes: channels must be 1 or 3/);
});

test('the new layout and image entry points refuse malformed arguments with a message naming them', { skip }, async () => {
  const addon = (tf.backend() as NativeBackend).addon;
  const s = (a: number[]) => Int32Array.from(a);
  const x = new Float32Array(24);
  assert.throws(() => addon.copyBox(x, s([2, 3, 4]), s([1, 0, 0]), new Float32Array(24), s([2, 3, 4]), s([0, 0, 0]), s([2, 3, 4])), /copyBox: the box does not fit in axis 0/);
  assert.throws(() => addon.copyBox(x, s([2, 3, 4]), s([0, 0]), new Float32Array(24), s([2, 3, 4]), s([0, 0, 0]), s([2, 3, 4])), /copyBox: srcBegin must have 3 entries/);
  assert.throws(() => addon.copyBox(x, s([2, 3, 5]), s([0, 0, 0]), new Float32Array(30), s([2, 3, 5]), s([0, 0, 0]), s([2, 3, 5])), /copyBox: src: array has 24 elements, needs 30/);
  assert.throws(() => addon.copyBox(x, s([24]), s([0]), new Int32Array(24), s([24]), s([0]), s([24])), /cannot copy a Float32Array into an Int32Array/);
  assert.throws(() => addon.channelAffine(x, new Float32Array(5), new Float32Array(5), x), /channelAffine: x's size 24 is not a multiple of the channels 5/);
  assert.throws(() => addon.unary(16, x, x, 1, 0), /unary: clip needs min <= max/);
  assert.throws(() => addon.transform(x, new Float32Array(7), x, 1, 2, 3, 4, 2, 3, true, 0, 0), /transform: transforms must hold 8 numbers/);
  assert.throws(() => addon.transform(x, new Float32Array(8), x, 1, 2, 3, 4, 2, 3, true, 4, 0), /transform: fillMode = 4 is outside \[0, 3\]/);
  assert.throws(() => addon.resizeBilinear(x, new Float32Array(10), 1, 2, 3, 4, 2, 3, false, false), /resizeBilinear: out: array has 10 elements, needs 24/);
  assert.throws(() => addon.ssdInput(x, new Float32Array(10), 2, 3, 4, 2), /ssdInput: out: array has 10 elements, needs 16/);
  assert.throws(() => addon.ssdInput(x, new Float32Array(16), 2, 3, 5, 2), /ssdInput: image: array has 24 elements, needs 30/);
  assert.throws(() => addon.ssdInput(x, new Float32Array(16), 2, 3, 4, 0), /ssdInput: S = 0/);
  assert.throws(() => addon.l1Mean(x, new Float32Array(23), new Float32Array(1)), /l1Mean: b: array has 23 elements, needs 24/);
  assert.throws(() => addon.l1Mean(new Float32Array(0), new Float32Array(0), new Float32Array(1)), /l1Mean: a and b are empty/);
  assert.throws(() => addon.l1MeanGrad(x, x, 1, new Float32Array(25)), /l1MeanGrad: a: array has 24 elements, needs 25/);
  // The addon still works after every refusal.
  const y = new Float32Array(6);
  addon.copyBox(Float32Array.from({ length: 24 }, (_, i) => i), s([2, 3, 4]), s([1, 1, 1]), y, s([1, 2, 3]), s([0, 0, 0]), s([1, 2, 3]));
  assert.deepEqual(Array.from(y), [17, 18, 19, 21, 22, 23]);
});
