// PSNR and SSIM on tensors, checked against known values and a plain-loop reference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { calibrateVerifier, verify } from '../../lib/metrics/identity';
import { laplacianVariance, psnr, ssim } from '../../lib/metrics/pixel-metrics';
import { mulberry32 } from '../helpers/rng';

/** SSIM of one single-channel image pair by direct summation (Gaussian 11x11, sigma 1.5, valid). */
function ssimReference(x: Float32Array, y: Float32Array, h: number, w: number): number {
  const k = 11, sigma = 1.5, c1 = 0.01 ** 2, c2 = 0.03 ** 2;
  const g1 = Array.from({ length: k }, (_, i) => Math.exp(-((i - 5) ** 2) / (2 * sigma * sigma)));
  const total = g1.reduce((a, b) => a + b, 0);
  const g = g1.map((v) => v / total);
  let sum = 0, count = 0;
  for (let i = 0; i + k <= h; i++)
    for (let j = 0; j + k <= w; j++) {
      let mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
      for (let u = 0; u < k; u++)
        for (let v = 0; v < k; v++) {
          const wt = g[u] * g[v], a = x[(i + u) * w + j + v], b = y[(i + u) * w + j + v];
          mx += wt * a; my += wt * b; xx += wt * a * a; yy += wt * b * b; xy += wt * a * b;
        }
      const sx = xx - mx * mx, sy = yy - my * my, sxy = xy - mx * my;
      sum += ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sx + sy + c2));
      count++;
    }
  return sum / count;
}

test('PSNR: a uniform error of 0.1 is 20 dB, per image', async () => {
  await initBackend({ force: 'wasm' });
  const a = tf.fill([2, 8, 8, 3], 0.5) as tf.Tensor4D;
  const b = tf.concat([tf.fill([1, 8, 8, 3], 0.6), tf.fill([1, 8, 8, 3], 0.51)]) as tf.Tensor4D;
  const p = await psnr(a, b).data();
  assert.ok(Math.abs(p[0] - 20) < 1e-3, `${p[0]}`);
  assert.ok(Math.abs(p[1] - 40) < 1e-2, `${p[1]}`);
  tf.dispose([a, b]);
});

test('SSIM: 1 for identical images, matches a plain-loop reference, falls with noise', async () => {
  await initBackend({ force: 'wasm' });
  const rand = mulberry32(4);
  const h = 20, w = 24;
  const xv = Float32Array.from({ length: h * w }, (_, i) => 0.5 + 0.4 * Math.sin(i / 7) * Math.cos(i / 31));
  const yv = xv.map((v) => Math.min(1, Math.max(0, v + (rand() - 0.5) * 0.3)));
  const x = tf.tensor4d(xv, [1, h, w, 1]), y = tf.tensor4d(yv, [1, h, w, 1]);
  const same = (await ssim(x, x).data())[0];
  assert.ok(Math.abs(same - 1) < 1e-5, `${same}`);
  const got = (await ssim(x, y).data())[0];
  const want = ssimReference(xv, yv, h, w);
  assert.ok(Math.abs(got - want) < 1e-4, `ssim ${got} vs reference ${want}`);
  assert.ok(got < 0.9, 'noise lowers SSIM');
  tf.dispose([x, y]);
});

test('SSIM averages channels per image and works on images smaller than the window', async () => {
  await initBackend({ force: 'wasm' });
  const x = tf.randomUniform([3, 8, 8, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const s = ssim(x, x);
  assert.deepEqual(s.shape, [3]);
  for (const v of await s.data()) assert.ok(Math.abs(v - 1) < 1e-5);
  tf.dispose([x, s]);
});

test('SSIM has a gradient (it serves as a loss term)', async () => {
  await initBackend({ force: 'wasm' });
  const x = tf.randomUniform([1, 16, 16, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
  const t = tf.randomUniform([1, 16, 16, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
  const g = tf.grad((v: tf.Tensor) => ssim(v as tf.Tensor4D, t).mean())(x);
  const values = await g.data();
  assert.ok(values.every(Number.isFinite) && values.some((v) => v !== 0));
  tf.dispose([x, t, g]);
});

test('Laplacian variance: higher for a sharp pattern than for its blur, measured only inside the mask', async () => {
  await initBackend({ force: 'wasm' });
  const n = 32;
  const checker = Float32Array.from({ length: n * n * 3 }, (_, i) => (((Math.floor(i / 3) % n >> 2) + (Math.floor(i / 3 / n) >> 2)) % 2 ? 0.9 : 0.1));
  const sharp = tf.tensor4d(checker, [1, n, n, 3]);
  const blurred = tf.tidy(() => tf.avgPool(sharp, 5, 1, 'same') as tf.Tensor4D);
  const [vs] = await laplacianVariance(sharp), [vb] = await laplacianVariance(blurred);
  assert.ok(vb < 0.5 * vs, `blurred ${vb.toFixed(0)} vs sharp ${vs.toFixed(0)}`);
  // Flat left half, checkered right half: a mask on the left sees no edges at all.
  const half = tf.tidy(() => tf.concat([tf.fill([1, n, n / 2, 3], 0.5), sharp.slice([0, 0, n / 2, 0], [1, n, n / 2, 3])], 2) as tf.Tensor4D);
  const left = tf.tidy(() => tf.concat([tf.ones([1, n, n / 2 - 2, 1]), tf.zeros([1, n, n / 2 + 2, 1])], 2) as tf.Tensor4D);
  assert.ok((await laplacianVariance(half, left))[0]! < 1e-6);
  assert.ok((await laplacianVariance(half))[0]! > 100);
  tf.dispose([sharp, blurred, half, left]);
});

test('verification: calibrated leave-one-out on a person\'s own descriptors; 95% of them pass, a far-away face does not', () => {
  const rand = mulberry32(9);
  const person = (centre: number) => Array.from({ length: 40 }, () => Float32Array.from({ length: 16 }, (_, k) => centre + (k === 0 ? 1 : 0) + (rand() - 0.5) * 0.2));
  const b = person(0), a = person(0.3);
  const v = calibrateVerifier(b);
  assert.equal(v.faces, 40);
  const self = verify(b, v).rate;
  assert.ok(self >= 0.9 && self <= 1, `own faces ${self}`);
  assert.equal(verify(a, v).rate, 0, 'another person (0.3 away on every axis) does not verify');
  assert.ok(verify(a, v).medianDistance > v.realMedian);
  assert.throws(() => calibrateVerifier(b.slice(0, 2)), /at least 3/);
});
