// Augmentation (random transform + random warp), batch sampling and the face-folder loader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'fs';
import { augmentFace, DEFAULT_AUGMENT, NO_AUGMENT, withBackground, type AugmentOptions } from '../../lib/train/augment';
import { ellipseMask } from '../../lib/data/identity-faces';
import { disposeBatch, FaceSampler } from '../../lib/train/batches';
import { loadFaces, splitHoldout } from '../../lib/data/face-set';
import { Rng } from '../../lib/util/rng';
import { initBackend } from '../../lib/engine/backend';
import { sharedPath, skipWithoutShared } from '../helpers/shared';
import { mulberry32 } from '../helpers/rng';
import { syntheticFaces } from '../train-fixtures';

const S = 32;

/** A face-like test image: smooth gradients plus a few edges, so moved pixels show. */
function testImage(seed = 1): Uint8Array {
  const rand = mulberry32(seed);
  const img = new Uint8Array(S * S * 3);
  const phase = rand() * 6;
  for (let y = 0; y < S; y++)
    for (let x = 0; x < S; x++)
      for (let c = 0; c < 3; c++) img[(y * S + x) * 3 + c] = Math.round(127 + 120 * Math.sin(x / 3 + c + phase) * Math.cos(y / 4));
  return img;
}

function augment(src: Uint8Array, seed: number, opts: AugmentOptions) {
  const input = new Float32Array(S * S * 3), target = new Float32Array(S * S * 3), mask = new Float32Array(S * S);
  augmentFace(src, S, new Rng(seed), opts, { input, target, maps: [{ src: ellipseMask(S), dst: mask }], at: 0 });
  return { input, target, mask };
}

function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

test('augmentation is deterministic for a seed and differs between seeds', () => {
  const img = testImage();
  const a1 = augment(img, 42, DEFAULT_AUGMENT), a2 = augment(img, 42, DEFAULT_AUGMENT), b = augment(img, 43, DEFAULT_AUGMENT);
  assert.deepEqual(a1.input, a2.input);
  assert.deepEqual(a1.target, a2.target);
  assert.ok(meanAbsDiff(a1.input, b.input) > 0.01, 'another seed, another augmentation');
});

test('without augmentation input and target are the image itself', () => {
  const img = testImage();
  const { input, target } = augment(img, 1, NO_AUGMENT);
  const original = Float32Array.from(img, (v) => v / 255);
  assert.ok(meanAbsDiff(target, original) < 1e-6);
  assert.ok(meanAbsDiff(input, original) < 1e-6);
});

test('the warp moves the input pixels but not the target', () => {
  const img = testImage();
  // Warp only: no rotation, zoom, shift or flip.
  const { input, target } = augment(img, 7, { ...NO_AUGMENT, warpScale: DEFAULT_AUGMENT.warpScale });
  const original = Float32Array.from(img, (v) => v / 255);
  assert.ok(meanAbsDiff(target, original) < 1e-6, 'target unwarped');
  const moved = meanAbsDiff(input, original);
  assert.ok(moved > 0.02, `warped input differs from the face (mean abs diff ${moved.toFixed(4)})`);
  // A smooth displacement of a pixel or two, not noise: most of the input stays close.
  assert.ok(moved < 0.25, `but stays the same face (${moved.toFixed(4)})`);
});

test('a flip mirrors the target exactly', () => {
  const img = testImage();
  const { target } = augment(img, 3, { ...NO_AUGMENT, flip: 1 });
  for (let y = 0; y < S; y++)
    for (let x = 0; x < S; x++)
      for (let c = 0; c < 3; c++) assert.ok(Math.abs(target[(y * S + x) * 3 + c] - img[(y * S + (S - 1 - x)) * 3 + c] / 255) < 1e-6);
});

test('the random transform keeps input and target aligned (only the warp tells them apart)', () => {
  const img = testImage();
  const transformed = augment(img, 11, { ...DEFAULT_AUGMENT, warpScale: 0 });
  assert.deepEqual(transformed.input, transformed.target);
  assert.ok(meanAbsDiff(transformed.target, Float32Array.from(img, (v) => v / 255)) > 0.01, 'the transform moved the face');
});

test('the sampler draws every face once per pass, in a seeded order, and resumes where it stopped', async () => {
  await initBackend({ force: 'wasm' });
  const faces = Array.from({ length: 5 }, (_, i) => testImage(i));
  const rng = new Rng(5);
  const maps = faces.map(() => ({ mask: ellipseMask(S), weight: ellipseMask(S) }));
  const s = new FaceSampler(faces, S, undefined, maps);
  const first = s.nextIndices(5, rng);
  assert.deepEqual([...first].sort(), [0, 1, 2, 3, 4]);
  s.nextIndices(2, rng);
  const saved = { sampler: s.saveState(), rng: rng.state() };
  const next = s.nextIndices(6, rng);
  const resumed = new FaceSampler(faces, S, saved.sampler, maps).nextIndices(6, new Rng(0, saved.rng));
  assert.deepEqual(resumed, next);
  const batch = s.next(3, rng, DEFAULT_AUGMENT);
  assert.deepEqual(batch.input.shape, [3, S, S, 3]);
  assert.deepEqual(batch.mask?.shape, [3, S, S, 1]);
  assert.deepEqual(batch.weight?.shape, [3, S, S, 3], 'weights repeated per colour channel');
  disposeBatch(batch);
});

test('data preparation of a 64 px batch of 16 takes a few milliseconds', () => {
  const faces = Array.from({ length: 16 }, (_, i) => {
    const f = new Uint8Array(64 * 64 * 3);
    for (let j = 0; j < f.length; j++) f[j] = (j * (i + 7)) % 251;
    return f;
  });
  const input = new Float32Array(16 * 64 * 64 * 3), target = new Float32Array(16 * 64 * 64 * 3);
  const rng = new Rng(1);
  const t0 = performance.now();
  for (let rep = 0; rep < 5; rep++) faces.forEach((f, at) => augmentFace(f, 64, rng, DEFAULT_AUGMENT, { input, target, at }));
  const ms = (performance.now() - t0) / 5;
  assert.ok(ms < 200, `${ms.toFixed(1)} ms per batch`);
});

test('the loader resizes any folder of images and holds out a stable share', async () => {
  const { a } = await syntheticFaces(12, 40);
  const set = await loadFaces(a, { size: 16 });
  assert.equal(set.pixels.length, 12);
  assert.ok(set.pixels.every((p) => p.length === 16 * 16 * 3));
  const split = splitHoldout(set.files, 0.25);
  assert.ok(split.heldOut.length >= 1 && split.train.length >= 1);
  assert.equal(split.heldOut.length + split.train.length, 12);
  // Adding a file never moves an existing one across the split.
  const more = splitHoldout([...set.files, 'face_999.png'], 0.25);
  for (const i of split.heldOut) assert.ok(more.heldOut.includes(i));
});

test('bad inputs are skipped with a reason', { skip: skipWithoutShared('data/bad-inputs') }, async () => {
  const dir = sharedPath('data/bad-inputs')!;
  const set = await loadFaces(dir, { size: 32 });
  const reasons = new Map(set.skipped.map((s) => [s.file, s.reason]));
  assert.equal(reasons.get('empty.jpg'), 'empty file');
  assert.equal(reasons.get('html-error-page.jpg'), 'not an image');
  assert.equal(reasons.get('decompression-bomb.png'), 'too many pixels');
  assert.ok(set.pixels.length >= 5, `usable images loaded (${set.files.join(', ')})`);
  assert.equal(set.pixels.length + set.skipped.length, readdirSync(dir).filter((n) => /\.(jpe?g|png|gif|webp|svg)$/i.test(n)).length);
});

test('centre crops of lfw-pair photos', { skip: skipWithoutShared('data/lfw-pair/Colin_Powell') }, async () => {
  const set = await loadFaces(sharedPath('data/lfw-pair/Colin_Powell')!, { size: 64, cropFraction: 0.45 });
  assert.ok(set.pixels.length > 200);
  assert.equal(set.skipped.length, 0);
});

test('background mixing: the input shows the face on another person\'s background, the target keeps its own', async () => {
  await initBackend({ force: 'wasm' });
  const face = testImage(1), other = testImage(2);
  // A mask that keeps the left half: the right half of the input must come from the other face.
  const mask = Float32Array.from({ length: S * S }, (_, p) => (p % S < S / 2 ? 1 : 0));
  const maps = [{ mask, weight: mask }];
  const s = new FaceSampler([face], S, undefined, maps, [other]);
  const batch = s.next(1, new Rng(3), { ...NO_AUGMENT, mixBackground: 1 });
  const input = batch.input.dataSync(), target = batch.target.dataSync();
  const want = withBackground(face, mask, other);
  assert.ok(want.every((v, i) => Math.abs(v / 255 - input[i]) < 1e-5), 'input = face where the mask is, the other picture elsewhere');
  assert.ok(face.every((v, i) => Math.abs(v / 255 - target[i]) < 1e-5), 'target = the face itself');
  assert.ok(meanAbsDiff(input, target) > 0.05);
  disposeBatch(batch);
  // Off (the default), the input is the face.
  const plain = new FaceSampler([face], S, undefined, maps, [other]).next(1, new Rng(3), NO_AUGMENT);
  assert.ok(meanAbsDiff(plain.input.dataSync(), plain.target.dataSync()) < 1e-6);
  disposeBatch(plain);
});

test('colour jitter changes the input\'s colours only, and only when asked', () => {
  const img = testImage();
  const plain = augment(img, 5, { ...NO_AUGMENT });
  const jittered = augment(img, 5, { ...NO_AUGMENT, colourJitter: 0.2 });
  assert.deepEqual(jittered.target, plain.target);
  assert.ok(meanAbsDiff(jittered.input, plain.input) > 0.01);
});
