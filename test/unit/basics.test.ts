// The tensor demonstrations of the first notebook, and the notebook display helpers outside Jupyter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { edgeMagnitude, sobelFilter } from '../../lib/lab/basics';
import { decodeImage } from '../../lib/util/image';
import { htmlTable, showImage } from '../../lib/viz/display';

test('edgeMagnitude lights up a vertical step edge and nothing else', async () => {
  await initBackend();
  const before = tf.memory().numTensors;
  // 8x10 image: left half black, right half white.
  const img = tf.tidy(() => tf.concat([tf.zeros([8, 5, 3]), tf.ones([8, 5, 3])], 1) as tf.Tensor3D);
  const e = edgeMagnitude(img);
  assert.deepEqual(e.shape, [8, 10, 3]);
  const v = (await e.array()) as number[][][];
  const row = v[4].map((px) => px[0]);
  const shown = row.map((x) => x.toFixed(2)).join(' ');
  assert.ok(row[4] > 0.5 && row[4] === row[5], `the two edge columns are bright: ${shown}`);
  assert.deepEqual([row[0], row[1], row[2], row[7], row[8], row[9]], [0, 0, 0, 0, 0, 0], `flat regions and borders are black: ${shown}`);
  tf.dispose([img, e]);
  assert.equal(tf.memory().numTensors, before);
});

test('edgeMagnitude on a photo taller than one strip of rows equals one convolution over all of it', async () => {
  await initBackend();
  const before = tf.memory().numTensors;
  // 1000 px wide: 1000 rows a strip, so 2300 rows take three strips (WebGPU's dispatch limit).
  const img = tf.randomUniform([2300, 1000, 3], 0, 1, 'float32', 3) as tf.Tensor3D;
  const want = tf.tidy(() => {
    const padded = tf.mirrorPad(img.mean(2, true).expandDims(0) as tf.Tensor4D, [[0, 0], [1, 1], [1, 1], [0, 0]], 'symmetric');
    const m = tf.conv2d(padded, sobelFilter(), 1, 'valid').square().sum(3, true).sqrt();
    return tf.tile(m.div(m.mean().mul(4).add(1e-6)).clipByValue(0, 1), [1, 1, 1, 3]).squeeze([0]);
  });
  const got = edgeMagnitude(img);
  const diff = tf.tidy(() => got.sub(want).abs().max());
  assert.deepEqual(got.shape, [2300, 1000, 3]);
  assert.ok((await diff.data())[0]! < 1e-5, `largest difference ${(await diff.data())[0]}`);
  tf.dispose([img, want, got, diff]);
  assert.equal(tf.memory().numTensors, before);
});

test('htmlTable escapes what it is given', () => {
  const html = htmlTable([['a', 'b'], ['<script>', 1]]);
  assert.ok(html.includes('&lt;script&gt;') && !html.includes('<script>'));
  assert.equal((html.match(/<tr>/g) ?? []).length, 2);
});

test('showImage works outside Jupyter: returns the PNG, scaled down to maxWidth', async () => {
  await initBackend();
  const t = tf.tidy(() => tf.randomUniform([20, 300, 3]) as tf.Tensor3D);
  const png = await showImage(t, { maxWidth: 150 });
  t.dispose();
  const back = await decodeImage(png, { minSide: 1 });
  assert.deepEqual([back.width, back.height], [150, 10]);
});
