// Identity transfer and landmark error on real faces, where the right answers are known.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { faceApiSwapMetrics } from '../../lib/metrics/swap';
import { landmarkError } from '../../lib/metrics/landmarks';
import { decodeImage } from '../../lib/util/image';
import { centreCropResize } from '../../lib/util/image';
import { sharedPath, skipWithoutShared } from '../helpers/shared';

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

test('verification: real faces of Powell verify as Powell (those it was calibrated on), Bush\'s do not; a blurred swap is less sharp', { skip }, async () => {
  const more = await faces('Colin_Powell', 7);
  const all = tf.concat([powell, more]) as tf.Tensor4D;
  const bush12 = tf.concat([bush, bush]) as tf.Tensor4D; // B->A "swaps", one per face of b
  // Calibrate on 12 faces of Powell by passing them as "b"; the A->B "swaps" under test are Powell's own faces and Bush's.
  const asSelf = await faceApiSwapMetrics({ a: bush, b: all, aToB: powell, bToA: bush12 });
  assert.ok((asSelf.verification.a2b ?? 0) >= 0.8, `Powell's own faces verify as Powell: ${asSelf.verification.a2b}`);
  const asOther = await faceApiSwapMetrics({ a: bush, b: all, aToB: bush, bToA: bush12 });
  assert.equal(asOther.verification.a2b, 0, 'Bush does not verify as Powell');
  assert.ok((asOther.descriptorDistance.a2b ?? 0) > (asOther.descriptorDistance.realB ?? 1));
  // The same faces blurred: the sharpness ratio falls well below the real faces' 1.
  const blurred = tf.tidy(() => tf.avgPool(powell, 3, 1, 'same') as tf.Tensor4D);
  const soft = await faceApiSwapMetrics({ a: bush, b: powell, aToB: blurred, bToA: bush });
  const crisp = await faceApiSwapMetrics({ a: bush, b: powell, aToB: powell, bToA: bush });
  assert.ok(Math.abs((crisp.sharpness.a2b ?? 0) - 1) < 0.35, `unblurred Powell against Powell's real faces: ${crisp.sharpness.a2b}`);
  assert.ok((soft.sharpness.a2b ?? 1) < 0.5 * (crisp.sharpness.a2b ?? 0), `blurred ${soft.sharpness.a2b} vs ${crisp.sharpness.a2b}`);
  tf.dispose([more, all, bush12, blurred]);
});
