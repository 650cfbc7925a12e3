// The swap's sharpening of the enlarged face (lib/swap/sharpen.ts): off means untouched, flat skin
// stays flat, a soft edge gets steeper, and through the whole swap a
// blurred decode comes back nearer the sharp face it was made from.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { applyMatrixAll } from '../../lib/faces/align';
import { templateInCrop } from '../../lib/faces/template';
import type { DetectedFace, Matrix, Point } from '../../lib/faces/types';
import { decodeImage, type RgbImage } from '../../lib/util/image';
import type { SwapModel } from '../../lib/swap/model';
import { sharpenFace } from '../../lib/swap/sharpen';
import { swapFaces } from '../../lib/swap/swap-image';

before(async () => {
  await initBackend();
});

/** A grey image, `w` wide, with a soft vertical edge from 0.3 to 0.7 ramping over `ramp` pixels. */
function softEdge(w: number, h: number, ramp: number): Float32Array {
  const out = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const t = Math.min(1, Math.max(0, (x - w / 2) / ramp + 0.5));
      out.fill(0.3 + 0.4 * t, (y * w + x) * 3, (y * w + x) * 3 + 3);
    }
  return out;
}

const at = (img: Float32Array, w: number, x: number, y: number) => img[(y * w + x) * 3];

test('sharpen: amount 0 returns the face untouched; a flat face stays flat', async () => {
  const face = softEdge(40, 20, 8);
  assert.equal(await sharpenFace(face, 40, 20, 3, { amount: 0, radius: 1 }), face);
  const flat = new Float32Array(30 * 30 * 3).fill(0.45);
  const out = await sharpenFace(flat, 30, 30, 3, { amount: 2, radius: 1 });
  const worst = out.reduce((m, v) => Math.max(m, Math.abs(v - 0.45)), 0);
  assert.ok(worst <= 1.5 / 255, `flat grey moved by ${(worst * 255).toFixed(2)} levels`);
  // A face enlarged 50-fold asks for a blur wider than libvips takes: clamped, not an error.
  assert.equal((await sharpenFace(face, 40, 20, 50, { amount: 1, radius: 1 })).length, face.length);
});

test('sharpen: a soft edge rises over fewer pixels, fewer with a larger amount, and flat sides keep their level', async () => {
  const w = 60, h = 20, y = 10;
  const face = softEdge(w, h, 9);
  // Distance between the crossings of 10% and 90% of the step (0.34 and 0.66), interpolated.
  const rise = (img: Float32Array) => {
    const cross = (level: number) => {
      for (let x = 1; x < w; x++) {
        const [p, q] = [at(img, w, x - 1, y), at(img, w, x, y)];
        if (p < level && q >= level) return x - 1 + (level - p) / (q - p);
      }
      return NaN;
    };
    return cross(0.66) - cross(0.34);
  };
  const [r0, r1, r2] = [rise(face), rise(await sharpenFace(face, w, h, 3, { amount: 1, radius: 1 })), rise(await sharpenFace(face, w, h, 3, { amount: 2, radius: 1 }))];
  assert.ok(r1 < 0.92 * r0 && r2 < 0.95 * r1, `10-90% rise: ${r0.toFixed(2)} px -> ${r1.toFixed(2)} (amount 1) -> ${r2.toFixed(2)} (amount 2)`);
  const sharp = await sharpenFace(face, w, h, 3, { amount: 1, radius: 1 });
  for (const x of [2, w - 3]) assert.ok(Math.abs(at(sharp, w, x, y) - at(face, w, x, y)) < 2 / 255, `level far from the edge at x=${x}: ${at(face, w, x, y).toFixed(3)} -> ${at(sharp, w, x, y).toFixed(3)}`);
});

/** The template face under a similarity transform: `scale` photo pixels wide, centred `at`. */
function placedFace(scale: number, c: Point): DetectedFace {
  const m: Matrix = [[scale, 0, c[0]], [0, scale, c[1]]];
  const landmarks = applyMatrixAll(m, templateInCrop({ size: 1, margin: 0 }).map(([x, y]): Point => [x - 0.5, y - 0.5]));
  return { box: { x: c[0] - scale / 2, y: c[1] - scale / 2, width: scale, height: scale }, score: 0.99, landmarks, detector: 'test' };
}

test('swap: sharpening a blurred decode brings the pasted face nearer the sharp original', async () => {
  const photo: RgbImage = await decodeImage(require.resolve('@vladmandic/face-api/demo/sample1.jpg'));
  // The decoder's "output" is its input blurred (3x3 box, twice): a soft decode of the right face.
  const blur = (x: tf.Tensor4D) => tf.avgPool(tf.avgPool(x, 3, 1, 'same'), 3, 1, 'same') as tf.Tensor4D;
  const model: SwapModel = {
    inputSize: 64, cropFraction: 0.75, geometry: { size: 128, margin: 0.2 }, identities: ['a', 'b'], data: {},
    source: { checkpoint: null, step: null }, decode: (faces) => tf.tidy(() => blur(faces)), dispose: () => undefined,
  };
  const face = placedFace(200, [1540, 640]);
  const options = { identity: 'b', mask: { forehead: 0.1, erode: 6, feather: 0, modelMask: true }, colour: 'none' as const, blend: 'alpha' as const, minScore: 0, minFace: 0, person: null };
  const error = (img: RgbImage) => {
    let s = 0, n = 0;
    const [nx, ny] = face.landmarks[30].map(Math.round);
    for (let y = ny - 40; y <= ny + 40; y++)
      for (let x = nx - 40; x <= nx + 40; x++)
        for (let c = 0; c < 3; c++) (s += Math.abs(img.data[(y * photo.width + x) * 3 + c] - photo.data[(y * photo.width + x) * 3 + c])), n++;
    return s / n;
  };
  const before = tf.memory().numTensors;
  const soft = error((await swapFaces(photo, [face], model, { ...options, sharpen: { amount: 0, radius: 1 } })).image);
  const sharpened = error((await swapFaces(photo, [face], model, { ...options, sharpen: { amount: 1, radius: 1 } })).image);
  assert.ok(sharpened < 0.95 * soft, `mean error in the face's core against the original: ${soft.toFixed(2)} unsharpened, ${sharpened.toFixed(2)} sharpened`);
  assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
});
