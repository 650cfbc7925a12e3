// Identity transfer and landmark error on real faces, where the right answers are known.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { faceApiSwapMetrics, landmarkError } from '../lib/faces/swap-metrics';
import { decodeImage } from '../lib/image';
import { centreCropResize } from '../lib/train/faces';
import { sharedPath, skipWithoutShared } from './helpers/shared';

const skip = skipWithoutShared('data/lfw-pair');
let bush: tf.Tensor4D, powell: tf.Tensor4D;

/** Six LFW photos of a person, centre-cropped to the face and resized to 64 px like a model input. */
async function faces(person: string, first: number): Promise<tf.Tensor4D> {
  const crops: Uint8Array[] = [];
  for (let i = first; i < first + 6; i++) {
    const img = await decodeImage(path.join(sharedPath('data/lfw-pair')!, person, `${person}_${String(i).padStart(4, '0')}.jpg`));
    crops.push(await centreCropResize(img.data, img.width, img.height, 64, 0.45));
  }
  return tf.tidy(() => tf.tensor4d(Float32Array.from(crops.flatMap((c) => Array.from(c, (v) => v / 255))), [6, 64, 64, 3]));
}

before(async () => {
  if (skip) return;
  await initBackend();
  bush = await faces('George_W_Bush', 1);
  powell = await faces('Colin_Powell', 1);
});

test('a "swap" that returns the other person scores full identity transfer; returning the source scores none', { skip }, async () => {
  const perfect = await faceApiSwapMetrics({ a: bush, b: powell, aToB: powell, bToA: bush });
  assert.equal(perfect.identityTransfer.a2b, 1);
  assert.equal(perfect.identityTransfer.b2a, 1);
  const none = await faceApiSwapMetrics({ a: bush, b: powell, aToB: bush, bToA: powell });
  assert.equal(none.identityTransfer.a2b, 0);
  assert.equal(none.identityTransfer.b2a, 0);
  assert.equal(none.landmarkError.a2b, 0, 'a face compared with itself has no landmark error');
});

test('landmark error grows when the pose changes: a mirrored face is further than the face itself', { skip }, async () => {
  const mirrored = tf.tidy(() => bush.reverse(2) as tf.Tensor4D);
  const shifted = tf.tidy(() => tf.image.transform(bush, tf.tensor2d([[1, 0, 6, 0, 1, 0, 0, 0]]).tile([6, 1]) as tf.Tensor2D, 'bilinear', 'reflect') as tf.Tensor4D);
  const same = await landmarkError(bush, bush);
  const moved = await landmarkError(bush, shifted);
  assert.equal(same, 0);
  // A 6 px shift of a ~30 px eye distance is about 0.2 of it.
  assert.ok(moved > 0.1 && moved < 0.4, `6 px shift: ${moved.toFixed(3)} of the eye distance`);
  assert.ok(await landmarkError(bush, mirrored) > 0.02);
  tf.dispose([mirrored, shifted]);
});
