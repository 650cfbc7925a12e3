// Warping decoders (lib/model/decoders/warping.ts, texture-coords.ts): a training session whose
// coordinates learn the landmarks' pull with a flat tensor count. Split from test/unit/warp-face.test.ts
// (the sampler, the coordinates, a new model, save and load) because it trains for several seconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'fs';
import * as path from 'path';
import { initBackend } from '../../lib/engine/backend';
import { loadCropLandmarks } from '../../lib/faces/crop-landmarks';
import type { Point } from '../../lib/faces/types';
import { encodeImage } from '../../lib/util/image';
import { warpLayer, withCoordinates } from '../../lib/model/decoders/warping-layers';
import { Rng } from '../../lib/util/rng';
import { NO_AUGMENT } from '../../lib/train/augment';
import { disposeBatch, FaceSampler } from '../../lib/train/batches';
import { modelLandmarks } from '../../lib/data/identity-faces';
import { loadFaces } from '../../lib/data/face-set';
import { resolveRecipe } from '../../lib/train/recipes';
import { identityMaps, TrainingSession } from '../../lib/train/session';
import { warping } from '../../lib/model/decoders/warping';
import { alignedFolder, syntheticFaces, tinyConfig } from '../train-fixtures';

/** Rewrites each face of `dir` as a skin-coloured square with a dark dot on each of its landmarks. */
async function drawLandmarks(dir: string, byFile: Map<string, Point[]>, side: number, skin: number[]): Promise<void> {
  for (const [file, points] of byFile) {
    const data = new Uint8Array(side * side * 3);
    for (let i = 0; i < data.length; i++) data[i] = skin[i % 3];
    for (const [x, y] of points)
      for (let dy = -2; dy <= 2; dy++)
        for (let dx = -2; dx <= 2; dx++) {
          const px = Math.round(x) + dx, py = Math.round(y) + dy;
          if (px >= 0 && py >= 0 && px < side && py < side) data.fill(30, (py * side + px) * 3, (py * side + px) * 3 + 3);
        }
    writeFileSync(path.join(dir, file), await encodeImage({ data, width: side, height: side }, 'png'));
  }
}

test('the warp recipe: no mirrored targets, the landmarks pull the coordinates, and training learns them with a flat tensor count', async () => {
  await initBackend();
  const { settings } = resolveRecipe('warp');
  assert.equal(settings.augment.flip, 0);
  assert.ok((settings.loss.coordsWeight ?? 0) > 0);
  const { a, b, model } = await syntheticFaces(6, 128);
  // Faces whose features sit at their landmarks, so the encoder can see where they are.
  await drawLandmarks(a, alignedFolder(a, 6, 128), 128, [200, 150, 120]);
  await drawLandmarks(b, alignedFolder(b, 6, 128), 128, [120, 160, 220]);
  const config = tinyConfig({ decoder: 'warping', inputSize: 32 });
  const session = await TrainingSession.open({ modelDir: model, data: { a, b }, config, settings: { ...settings, batchSize: 4, holdout: 0, adam: { ...settings.adam, learningRate: 2e-3 } } });
  // The texture is one of the training faces, pixel for pixel.
  const set = await loadFaces(a, { size: 32, cropFraction: settings.cropFraction });
  const lm = modelLandmarks(set, settings.cropFraction, (await loadCropLandmarks(a, set.files)).byFile);
  const layerTex = await session.ae.decoders.a.getLayer('dec_warp').getWeights()[0].data();
  const k = set.pixels.findIndex((p) => p.every((v, i) => Math.abs(v / 255 - layerTex[i]) < 1e-6));
  assert.ok(k >= 0, 'the texture is a training face');
  assert.deepEqual(warpLayer(session.ae.decoders.a)!.textureLandmarks().map(([x, y]) => [Math.fround(x), Math.fround(y)]), lm[k]!.map(([x, y]) => [Math.fround(x), Math.fround(y)]));
  // The coordinates' error on the same unaugmented faces, before and after training.
  const person = { id: 'a', set, landmarks: lm, larger: async () => { throw new Error('not needed'); } };
  const kindMaps = (masks: Float32Array[]) => warping.faceMaps!(session.ae.decoders.a!, person, masks);
  const maps = await identityMaps(set, settings, undefined, { landmarks: (await loadCropLandmarks(a, set.files)).byFile, kindMaps });
  const batch = new FaceSampler(set.pixels, 32, undefined, maps, [], warping.batchTargets).next(6, new Rng(3), NO_AUGMENT);
  const { coords: want, coordsWeight: weight } = batch.targets!;
  const coordsError = () => tf.tidy(() => {
    const [, coords] = withCoordinates(session.ae.decoders.a).predict(session.ae.encoder.predict(batch.input)) as tf.Tensor[];
    return coords.sub(want!).abs().mul(weight!).sum().div(weight!.sum()).dataSync()[0];
  });
  const before = coordsError();
  await session.trainStep();
  const tensors = tf.memory().numTensors;
  for (let i = 0; i < 80; i++) await session.trainStep();
  assert.equal(tf.memory().numTensors, tensors, 'tensor count flat over steps');
  const after = coordsError();
  assert.ok(after < before * 0.6, `the coordinates' error fell from ${before.toFixed(2)} to ${after.toFixed(2)} px`);
  disposeBatch(batch);
  session.dispose();
});
