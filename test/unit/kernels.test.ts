// The kernels the project adds so models train on wasm, checked against the cpu backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { spaceToDepth } from '../../lib/engine/extra-kernels/depth-to-space-grad';
import { mulberry32, randInt } from '../helpers/rng';

type Pad = 'same' | 'valid';

/** Run fn on one backend and bring the result back as plain numbers. */
async function on(backend: string, fn: () => tf.Tensor): Promise<{ shape: number[]; values: Float32Array }> {
  await tf.setBackend(backend);
  const t = fn();
  const out = { shape: t.shape, values: (await t.data()) as Float32Array };
  t.dispose();
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

test('setup: the wasm backend initialises with the project kernels', async () => {
  const choice = await initBackend({ force: 'wasm' });
  assert.equal(choice.backend, 'wasm');
  assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm'), 'Conv2DBackpropFilter is registered for wasm');
});

const cases: Array<{ k: number; stride: number; pad: Pad }> = [];
for (const k of [1, 3, 5]) for (const stride of [1, 2]) for (const pad of ['same', 'valid'] as Pad[]) cases.push({ k, stride, pad });

for (const [idx, c] of cases.entries()) {
  test(`Conv2DBackpropFilter on wasm matches cpu: kernel ${c.k}, stride ${c.stride}, pad ${c.pad}`, async () => {
    await initBackend({ force: 'wasm' });
    const rand = mulberry32(1000 + idx);
    const n = randInt(rand, 1, 3), h = randInt(rand, c.k, 13), w = randInt(rand, c.k, 13);
    const cin = randInt(rand, 1, 6), cout = randInt(rand, 1, 5);
    const xv = Float32Array.from({ length: n * h * w * cin }, () => rand() * 2 - 1);
    const filterShape: [number, number, number, number] = [c.k, c.k, cin, cout];
    const info = tf.backend_util.computeConv2DInfo([n, h, w, cin], filterShape, c.stride, 1, c.pad);
    const dyShape = [n, info.outHeight, info.outWidth, cout];
    const dyv = Float32Array.from({ length: dyShape.reduce((a, b) => a * b) }, () => rand() * 2 - 1);
    const run = () =>
      tf.tidy(() => {
        const x = tf.tensor4d(xv, [n, h, w, cin]);
        const dy = tf.tensor(dyv, dyShape);
        const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape };
        // runKernel goes straight to the kernel under test, whatever the op layer does.
        return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs) as tf.Tensor;
      });
    const ref = await on('cpu', run);
    const got = await on('wasm', run);
    assert.deepEqual(got.shape, filterShape);
    assert.deepEqual(ref.shape, filterShape);
    const tol = 1e-5 * Math.max(1, maxAbs(ref.values));
    assert.ok(maxAbsDiff(got.values, ref.values) <= tol, `max diff ${maxAbsDiff(got.values, ref.values)} > ${tol}`);
  });
}

test('gradient of a fused conv layer (bias, stride 2) on wasm matches cpu', async () => {
  await initBackend({ force: 'wasm' });
  const rand = mulberry32(7);
  const xv = Float32Array.from({ length: 2 * 16 * 16 * 3 }, () => rand());
  const wv = Float32Array.from({ length: 5 * 5 * 3 * 8 }, () => rand() - 0.5);
  const grads = () =>
    tf.tidy(() => {
      const x = tf.tensor4d(xv, [2, 16, 16, 3]);
      const f = (w: tf.Tensor, b: tf.Tensor) =>
        tf.fused.conv2d({ x, filter: w as tf.Tensor4D, strides: 2, pad: 'same', bias: b }).square().mean();
      const [gw, gb] = tf.grads(f)([tf.tensor4d(wv, [5, 5, 3, 8]), tf.zeros([8])]);
      return tf.concat([gw.flatten(), gb.flatten()]);
    });
  const ref = await on('cpu', grads);
  const got = await on('wasm', grads);
  assert.ok(maxAbsDiff(got.values, ref.values) <= 1e-5 * Math.max(1, maxAbs(ref.values)));
});

test('Conv2DBackpropFilter on wasm frees every intermediate buffer', async () => {
  await initBackend({ force: 'wasm' });
  await tf.setBackend('wasm');
  const x = tf.randomNormal([2, 9, 9, 4]);
  const dy = tf.randomNormal([2, 5, 5, 3]);
  const attrs = { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 4, 3] };
  const before = { tensors: tf.memory().numTensors, buffers: tf.backend().numDataIds() };
  for (let i = 0; i < 5; i++) (tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs) as tf.Tensor).dispose();
  assert.equal(tf.memory().numTensors, before.tensors);
  assert.equal(tf.backend().numDataIds(), before.buffers);
  tf.dispose([x, dy]);
});

test('DepthToSpace gradient is space-to-depth, on wasm and cpu', async () => {
  await initBackend({ force: 'wasm' });
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    tf.tidy(() => {
      const x = tf.randomNormal([2, 3, 4, 12]) as tf.Tensor4D;
      const round = spaceToDepth(tf.depthToSpace(x, 2), 2);
      assert.ok(maxAbsDiff(round.dataSync() as Float32Array, x.dataSync() as Float32Array) === 0, 'space-to-depth inverts depth-to-space');
      const weights = tf.randomNormal([2, 6, 8, 3]);
      // d/dx sum(depthToSpace(x) * weights) = spaceToDepth(weights)
      const g = tf.grad((v: tf.Tensor) => tf.depthToSpace(v as tf.Tensor4D, 2).mul(weights).sum())(x);
      const want = spaceToDepth(weights as tf.Tensor4D, 2);
      assert.equal(maxAbsDiff(g.dataSync() as Float32Array, want.dataSync() as Float32Array), 0, backend);
    });
  }
});

test('a small conv autoencoder trains on wasm: loss falls over 20 steps', async () => {
  await initBackend({ force: 'wasm' });
  await tf.setBackend('wasm');
  const images = tf.tidy(() => {
    // Smooth images (a few blobs) so there is structure to learn.
    const yy = tf.linspace(-1, 1, 16).reshape([1, 16, 1, 1]);
    const xx = tf.linspace(-1, 1, 16).reshape([1, 1, 16, 1]);
    const centres = tf.randomUniform([8, 1, 1, 3], -0.6, 0.6, 'float32', 3);
    return tf.exp(yy.sub(centres).square().add(xx.sub(centres.reverse(3)).square()).mul(-4));
  });
  const init = (shape: number[], seed: number) => tf.variable(tf.randomNormal(shape, 0, Math.sqrt(2 / shape.slice(0, -1).reduce((a, b) => a * b)), 'float32', seed));
  const w1 = init([3, 3, 3, 8], 1), w2 = init([3, 3, 8, 16], 2), w3 = init([3, 3, 4, 12], 3);
  const b3 = tf.variable(tf.zeros([12]));
  const net = (x: tf.Tensor4D) => {
    const h1 = tf.leakyRelu(tf.conv2d(x, w1 as tf.Tensor4D, 2, 'same'), 0.1); // 8x8x8
    const h2 = tf.leakyRelu(tf.conv2d(h1, w2 as tf.Tensor4D, 1, 'same'), 0.1); // 8x8x16
    const up = tf.depthToSpace(h2 as tf.Tensor4D, 2); // 16x16x4: the sub-pixel upscale
    return tf.sigmoid(tf.conv2d(up, w3 as tf.Tensor4D, 1, 'same').add(b3)).slice([0, 0, 0, 0], [-1, -1, -1, 3]);
  };
  const opt = tf.train.adam(0.01);
  const losses: number[] = [];
  const tensorsAtStep: number[] = [];
  for (let step = 0; step < 20; step++) {
    const loss = opt.minimize(() => tf.losses.absoluteDifference(images, net(images as tf.Tensor4D)) as tf.Scalar, true);
    losses.push((await loss!.data())[0]);
    loss!.dispose();
    tensorsAtStep.push(tf.memory().numTensors);
  }
  assert.ok(losses[19] < losses[0] * 0.7, `loss fell from ${losses[0].toFixed(4)} to ${losses[19].toFixed(4)}`);
  assert.equal(tensorsAtStep[19], tensorsAtStep[4], 'no tensors leak per step');
  opt.dispose();
  tf.dispose([images, w1, w2, w3, b3]);
});
