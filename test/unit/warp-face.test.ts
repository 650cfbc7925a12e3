// Warping decoders (lib/model/decoders/warping.ts and its layers, texture-coords.ts): the bilinear
// sampler (which passes no gradient), the texture coordinates drawn from landmarks, a new model that shows
// its texture untouched, save and load, and a training session whose coordinates learn the
// landmarks' pull with a flat tensor count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { loadCropLandmarks } from '../../lib/faces/crop-landmarks';
import type { Point } from '../../lib/faces/types';
import { autoencode, buildAutoencoder, disposeAutoencoder, swapDecode } from '../../lib/model/builder';
import { validateModelConfig } from '../../lib/model/decoders/registry';
import { warping } from '../../lib/model/decoders/warping';
import { loadAutoencoder, saveAutoencoder } from '../../lib/model/store';
import { MAX_FLOW, mostTypicalFace, renderDetailed, sampleBilinear, startTextures, warpLayer, warpStages, withCoordinates } from '../../lib/model/decoders/warping-layers';
import { swapModelOf } from '../../lib/swap/model';
import { DEFAULT_CROP } from '../../lib/faces/template';
import { modelLandmarks } from '../../lib/data/identity-faces';
import { loadFaces } from '../../lib/data/face-set';
import { resolveRecipe } from '../../lib/train/recipes';
import { identityMaps, TrainingSession } from '../../lib/train/session';
import { NO_AUGMENT } from '../../lib/train/augment';
import { disposeBatch, FaceSampler } from '../../lib/train/batches';
import { Rng } from '../../lib/util/rng';
import { textureCoordinates } from '../../lib/model/decoders/texture-coords';
import { mkdtempSync, writeFileSync } from 'fs';
import { encodeImage } from '../../lib/util/image';
import * as os from 'os';
import * as path from 'path';
import { tinyConfig } from '../train-fixtures';

test('bilinear sampling reads texels at whole coordinates, interpolates between them, and clamps at the edge', async () => {
  await initBackend();
  const tex = tf.tensor3d(Float32Array.from({ length: 4 * 4 * 3 }, (_, i) => i), [4, 4, 3]);
  const x = tf.tensor3d([[[0, 1, 1.5, 3, 9, -2]]]), y = tf.tensor3d([[[0, 2, 0.5, 3, 1, 1]]]);
  const got = await sampleBilinear(tex, x, y).data();
  const texel = (xx: number, yy: number, c: number) => (yy * 4 + xx) * 3 + c;
  const want = [
    [0, 1, 2],
    [texel(1, 2, 0), texel(1, 2, 1), texel(1, 2, 2)],
    // (1.5, 0.5): the mean of the four texels around it.
    [0, 1, 2].map((c) => (texel(1, 0, c) + texel(2, 0, c) + texel(1, 1, c) + texel(2, 1, c)) / 4),
    [texel(3, 3, 0), texel(3, 3, 1), texel(3, 3, 2)],
    [texel(3, 1, 0), texel(3, 1, 1), texel(3, 1, 2)], // x 9: clamped to the last column
    [texel(0, 1, 0), texel(0, 1, 1), texel(0, 1, 2)], // x -2: the first
  ].flat();
  assert.deepEqual(Array.from(got), want);
  tf.dispose([tex, x, y]);
});

test('no gradient passes through the sampler: the photo stays as it is, and only the landmarks move the coordinates', async () => {
  await initBackend();
  const tex = tf.randomUniform([6, 6, 3], 0, 1, 'float32', 1) as tf.Tensor3D;
  const x = tf.randomUniform([2, 3, 3], 0.2, 4.8, 'float32', 2) as tf.Tensor3D, y = tf.randomUniform([2, 3, 3], 0.2, 4.8, 'float32', 4) as tf.Tensor3D;
  const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => sampleBilinear(a as tf.Tensor3D, b as tf.Tensor3D, c as tf.Tensor3D).sum() as tf.Scalar)([tex, x, y]);
  for (const g of grads) assert.equal((await g.abs().sum().data())[0], 0);
  tf.dispose([tex, x, y, ...grads]);
});

test('texture coordinates from landmarks: the same landmarks map every pixel to itself; shifted ones shift the map inside the face', () => {
  const size = 32;
  // A ring of 68 points around the centre, like a face's outline and features.
  const lm: Point[] = Array.from({ length: 68 }, (_, i) => [16 + 9 * Math.cos(i * 0.37) * (0.4 + (i % 5) / 8), 16 + 9 * Math.sin(i * 0.37) * (0.4 + (i % 5) / 8)]);
  const same = textureCoordinates(lm, lm, size, size);
  for (let p = 0; p < size * size; p++) {
    assert.ok(Math.abs(same.u[p] - (p % size)) < 1e-3 && Math.abs(same.v[p] - Math.floor(p / size)) < 1e-3, `pixel ${p}`);
  }
  // The face 2 px right and 1 px down of the texture's: its pixels read 2 px left and 1 up.
  const moved = textureCoordinates(lm.map(([x, y]): Point => [x + 2, y + 1]), lm, size, size);
  const centre = 16 * size + 16;
  assert.ok(Math.abs(moved.u[centre] - 14) < 1e-3 && Math.abs(moved.v[centre] - 15) < 1e-3, `centre reads (${moved.u[centre]}, ${moved.v[centre]})`);
  // A texture twice the size: coordinates in its pixels.
  const big = textureCoordinates(lm, lm.map(([x, y]): Point => [x * 2, y * 2]), size, 2 * size);
  assert.ok(Math.abs(big.u[centre] - 32) < 0.6, `u ${big.u[centre]}`);
});

test('a new warping model shows its texture unchanged: zero flow, gain 1, whatever the code; its detailed render shows the larger photo', async () => {
  await initBackend();
  const config = tinyConfig({ decoder: 'warping', warpDetail: 2 });
  validateModelConfig(config);
  assert.throws(() => validateModelConfig(tinyConfig({ decoder: 'warping', decoderWidths: [8, 8], encoderWidths: [8, 8, 8] })), /warping decoder needs 3/);
  const ae = buildAutoencoder(config, { seed: 2 });
  const s = config.inputSize;
  const faces = Array.from({ length: 3 }, (_, k) => Uint8Array.from({ length: s * s * 3 }, (_, i) => (i * (k + 3) + k * 40) % 256));
  const lm: Point[] = Array.from({ length: 68 }, (_, i) => [i % 16, Math.floor(i / 5)]);
  // The larger photo: a pattern of its own, so the test can tell which photo a render read.
  const larger = async (id: string, i: number, side: number) => Uint8Array.from({ length: side * side * 3 }, (_, j) => (j * 7 + i * 13 + id.length) % 256);
  await assert.rejects(startTextures(ae.decoders, { a: { pixels: faces, landmarks: [lm, null, lm] } }, s), /keeps its photo at 2x/);
  const chosen = await startTextures(ae.decoders, { a: { pixels: faces, landmarks: [lm, null, lm] }, b: { pixels: faces, landmarks: [null, null, lm] } }, s, larger);
  assert.equal(chosen.b, 2, 'only a face with landmarks can be the texture');
  assert.equal(chosen.a, [0, 2][mostTypicalFace([faces[0], faces[2]])]);
  assert.deepEqual(warpLayer(ae.decoders.b)!.textureLandmarks(), lm);
  const x = tf.randomUniform([2, s, s, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  const out = await autoencode(ae, x, 'b').data();
  const texture = Array.from(faces[2], (v) => v / 255);
  for (let n = 0; n < 2; n++)
    for (let i = 0; i < texture.length; i++) assert.ok(Math.abs(out[n * texture.length + i] - texture[i]) < 1e-5, `face ${n}, value ${i}`);
  const big = Array.from(await larger('b', 2, 2 * s), (v) => v / 255);
  const codes = ae.encoder.predict(x) as tf.Tensor4D;
  const drawn = renderDetailed(ae.decoders.b, codes);
  assert.deepEqual(drawn.shape, [2, 2 * s, 2 * s, 3]);
  const drawnValues = await drawn.data();
  for (let i = 0; i < big.length; i++) assert.ok(Math.abs(drawnValues[i] - big[i]) < 1e-5, `detailed value ${i}`);
  // A flow of 2 texture pixels to the right (tanh(b) x MAX_FLOW x 16 = 2): the 16 px output reads 2
  // pixels further right, the detailed render 4 of its own (the same place in the face).
  const flowLayer = ae.decoders.b.getLayer('dec_flow');
  const [kernel, bias] = flowLayer.getWeights().map((w) => w.clone());
  flowLayer.setWeights([kernel, tf.tensor1d([Math.atanh(2 / (MAX_FLOW * s)), 0])]);
  const shifted = await autoencode(ae, x, 'b').data();
  const shiftedBig = await renderDetailed(ae.decoders.b, codes).data();
  for (let y = 0; y < s; y++)
    for (let xx = 0; xx < s - 2; xx++)
      for (let c = 0; c < 3; c++) assert.ok(Math.abs(shifted[(y * s + xx) * 3 + c] - texture[(y * s + xx + 2) * 3 + c]) < 1e-4, `shifted output at ${xx}, ${y}`);
  for (let y = 0; y < 2 * s; y++)
    for (let xx = 0; xx < 2 * s - 4; xx++)
      for (let c = 0; c < 3; c++) assert.ok(Math.abs(shiftedBig[(y * 2 * s + xx) * 3 + c] - big[(y * 2 * s + xx + 4) * 3 + c]) < 1e-4, `shifted detailed render at ${xx}, ${y}`);
  flowLayer.setWeights([kernel, bias]);
  tf.dispose([kernel, bias]);
  tf.dispose([codes, drawn]);
  // Save and load: the texture travels with the decoder and the outputs stay identical.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dfl-warp-'));
  await saveAutoencoder(ae, dir);
  const back = await loadAutoencoder(dir);
  assert.deepEqual(await autoencode(back, x, 'b').data(), out);
  assert.deepEqual(warpLayer(back.decoders.b)!.textureLandmarks(), lm);
  const [, coords] = withCoordinates(back.decoders.a).predict(tf.zeros([1, ...back.decoders.a.inputs[0].shape.slice(1) as number[]])) as tf.Tensor[];
  assert.deepEqual(coords.shape, [1, s, s, 2]);
  tf.dispose([x, coords]);
  disposeAutoencoder(ae);
  disposeAutoencoder(back);
});

test("a swap keeps swapLight of its decoder's light (the gain to that power); a person's own faces keep all of it", async () => {
  await initBackend();
  assert.throws(() => validateModelConfig(tinyConfig({ decoder: 'warping', swapLight: 1.5 })), /swapLight must be from 0 to 1/);
  const config = tinyConfig({ decoder: 'warping', warpDetail: 2, swapLight: 0.5 });
  validateModelConfig(config);
  const ae = buildAutoencoder(config, { seed: 3 });
  const s = config.inputSize;
  const face = Uint8Array.from({ length: s * s * 3 }, (_, i) => 60 + ((i * 5) % 120));
  const lm: Point[] = Array.from({ length: 68 }, (_, i) => [i % 16, Math.floor(i / 5)]);
  const larger = async (_id: string, _i: number, side: number) => Uint8Array.from({ length: side * side * 3 }, (_, j) => 60 + ((j * 3) % 120));
  await startTextures(ae.decoders, { a: { pixels: [face], landmarks: [lm] }, b: { pixels: [face], landmarks: [lm] } }, s, larger);
  // A light that is the same everywhere: raw gains per colour in the bias of a zero kernel.
  const raw = [0.6, -0.4, 0.2];
  const gainLayer = ae.decoders.b.getLayer('dec_gain');
  // (getWeights gives the layer's own kernel: kept, not disposed.)
  tf.tidy(() => gainLayer.setWeights([gainLayer.getWeights()[0], tf.tensor1d(raw)]));
  const x = tf.randomUniform([2, s, s, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
  const texture = Array.from(face, (v) => v / 255);
  const lit = (k: number) => texture.map((v, i) => Math.min(1, v * Math.exp(k * Math.tanh(raw[i % 3]))));
  const near = (got: Float32Array | Int32Array | Uint8Array, want: number[], what: string) => {
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-5, `${what}: value ${i} is ${got[i]}, expected ${want[i]}`);
  };
  near(await autoencode(ae, x, 'b').data(), lit(1), "decoder B's own output, the whole light");
  near(await swapDecode(ae, x, 'b').data(), lit(0.5), 'the swap, half the light');
  // The swap model the swap command uses draws the same, at 64 px and from the larger photo.
  const model = swapModelOf(ae, 1, DEFAULT_CROP, {});
  near(await model.decode(x, 'b').data(), lit(0.5), "the swap model's decode");
  const codes = ae.encoder.predict(x) as tf.Tensor4D;
  const big = Array.from(await larger('b', 0, 2 * s), (v) => v / 255);
  near(await model.decodeDetailed!(x, 'b').data(), big.map((v, i) => Math.min(1, v * Math.exp(0.5 * Math.tanh(raw[i % 3])))), "the swap model's detailed render");
  const stages = warpStages(ae.decoders.b, codes, 0);
  near(await stages.face.data(), texture, 'light^0: the photo only moved (here, not moved at all)');
  // swapLight 1 (or none, as in models trained before it existed): the swap is the decoder's output.
  const whole = { ...ae, config: { ...ae.config, swapLight: undefined } };
  assert.deepEqual(await swapDecode(whole, x, 'b').data(), await autoencode(ae, x, 'b').data());
  tf.dispose([x, codes, stages.face, stages.moved, stages.light]);
  disposeAutoencoder(ae);
});
