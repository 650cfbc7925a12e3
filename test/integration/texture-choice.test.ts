// A warping decoder's photo chosen with the recognition net (lib/model/decoders/texture-choice.ts), on real
// photos from ../shared/data/lfw-pair: a face of somebody else among the person's faces is never
// chosen, whatever its typicality, and the choice is the candidate whose moved renders lie nearest
// the person's mean descriptor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { cropLandmarks } from '../../lib/faces/recognition';
import type { Point } from '../../lib/faces/types';
import { textureCandidates, type TextureSource } from '../../lib/model/decoders/warping-layers';
import { identityTexture } from '../../lib/model/decoders/texture-choice';
import { sharedPath, skipWithoutShared } from '../helpers/shared';

const SIZE = 64;

/** The centre of an LFW photo (250 px, the face in the middle) at 64 px, and its landmarks from face-api's net. */
async function faceOf(file: string): Promise<{ pixels: Uint8Array; landmarks: Point[] }> {
  const { data } = await sharp(file).extract({ left: 70, top: 75, width: 110, height: 110 }).resize(SIZE, SIZE).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const pixels = new Uint8Array(data);
  const crop = tf.tidy(() => tf.tensor3d(pixels, [SIZE, SIZE, 3], 'int32').toFloat().div(255) as tf.Tensor3D);
  const landmarks = await cropLandmarks(crop);
  crop.dispose();
  return { pixels, landmarks };
}

test("the texture chooser never picks another person's face, and picks the candidate that stays most like the person when moved", { skip: skipWithoutShared('data/lfw-pair'), timeout: 300_000 }, async () => {
  await initBackend();
  const dir = (who: string) => path.join(sharedPath('data/lfw-pair')!, who);
  const powell = fs.readdirSync(dir('Colin_Powell')).filter((f) => f.endsWith('.jpg')).sort().slice(0, 9).map((f) => path.join(dir('Colin_Powell'), f));
  // A photo of Bush that is nearer the mean of these ten faces, in pixels, than any of Powell's.
  const bush = path.join(dir('George_W_Bush'), 'George_W_Bush_0033.jpg');
  const faces = [];
  for (const f of [...powell, bush]) faces.push(await faceOf(f));
  const set: TextureSource = { pixels: faces.map((f) => f.pixels), landmarks: faces.map((f) => f.landmarks) };
  const intruder = faces.length - 1;
  const every = set.pixels.length;
  assert.equal(textureCandidates(set)[0], intruder, 'the premise: without a recognition net, Bush would be chosen');
  const choice = await identityTexture(set, SIZE, { candidates: every, probes: 6, reference: every });
  assert.notEqual(choice.index, intruder, "Bush's face among Powell's must not become Powell's photo");
  assert.ok(choice.distance < choice.typicalDistance, `the choice (${choice.distance}) lies nearer Powell's mean than Bush's photo moved (${choice.typicalDistance})`);
  // With one candidate, the choice is the most typical face, as without a recognition net.
  const one = await identityTexture(set, SIZE, { candidates: 1, probes: 6, reference: every });
  assert.equal(one.index, textureCandidates(set)[0]);
  assert.equal(one.distance, one.typicalDistance);
});
