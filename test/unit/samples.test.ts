// The built-in identities' rig: parameters, determinism and the warp (what face-api sees is in
// test/integration/samples-detect.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/engine/backend';
import { applyMatrixAll, fitSimilarity } from '../../lib/faces/align';
import { eyeCentres } from '../../lib/faces/template';
import type { Point } from '../../lib/faces/types';
import { checkDetection, landmarkError } from '../../lib/samples/detection-check';
import { NEUTRAL, RANGES, checkParams, sample, type RigParams } from '../../lib/samples/params';
import { piecewiseWarp } from '../../lib/geometry/piecewise-affine';
import { IDENTITIES } from '../../lib/samples/identities';
import { loadPerson, personOf, render, renderLandmarks, OUTPUT } from '../../lib/samples/rig';
import { triangulate } from '../../lib/geometry/triangulate';

test('sample() draws the same parameters for the same seed, inside RANGES', () => {
  assert.deepEqual(sample(7), sample(7));
  assert.notDeepEqual(sample(7), sample(8));
  for (let i = 0; i < 200; i++) {
    const p = sample(`r${i}`);
    checkParams(p);
    for (const k of Object.keys(RANGES) as Array<keyof RigParams>) assert.ok(p[k] >= RANGES[k][0] && p[k] <= RANGES[k][1], `${k} = ${p[k]}`);
  }
  assert.throws(() => checkParams({ ...NEUTRAL, yaw: 40 }), /yaw/);
});

test('the warp copies the source exactly when nothing moves, and leaves no hole when things do', () => {
  const w = 40, h = 30;
  const data = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37) % 251);
  const src = { data, width: w, height: h };
  const pts: Point[] = [[0, 0], [w, 0], [w, h], [0, h], [13.3, 11.7], [25.1, 19.2], [30, 8]];
  const same = piecewiseWarp(src, pts, pts, triangulate(pts), w, h);
  assert.ok(same.data.every((v, i) => Math.abs(v - data[i]) < 1e-3));

  const moved = pts.map(([x, y], i): Point => (i < 4 ? [x, y] : [x + 3, y - 2]));
  const white = { data: new Uint8Array(w * h * 3).fill(255), width: w, height: h };
  const out = piecewiseWarp(white, pts, moved, triangulate(moved), w, h);
  assert.ok(out.data.every((v) => v > 254.99), 'every output pixel is drawn');
});

test('render() is deterministic, and its landmarks follow the camera exactly', async () => {
  const a = await loadPerson('a');
  const p = sample('determinism');
  const [r1, r2] = [await render(a, p), await render(a, p)];
  assert.ok(r1.bytes.equals(r2.bytes), 'same parameters, same bytes');
  assert.equal(r1.image.width, OUTPUT.width);
  assert.equal(r1.format, 'jpeg');
  assert.deepEqual(r1.landmarks, renderLandmarks(a, p));
  assert.equal((await render(a, { ...NEUTRAL })).format, 'png');

  // Camera only (roll, scale, shift): the landmarks are a similarity transform of the source's.
  const cam = { ...NEUTRAL, roll: 10, scale: 1.1, shiftX: 0.03 };
  const lm = renderLandmarks(a, cam);
  const m = fitSimilarity(IDENTITIES.a.landmarks, lm);
  const back = applyMatrixAll(m, IDENTITIES.a.landmarks);
  assert.ok(landmarkError(back, lm) < 1e-6);
  const [l, r] = eyeCentres(lm);
  assert.ok(Math.abs((Math.atan2(r[1] - l[1], r[0] - l[0]) * 180) / Math.PI - 10) < 1e-6, 'roll 10 puts the eye line at 10 degrees');

  // An expression moves its landmarks and not the others.
  const open = renderLandmarks(a, { ...NEUTRAL, mouthOpen: 1 });
  const neutral = renderLandmarks(a, { ...NEUTRAL });
  assert.ok(open[57][1] - neutral[57][1] > 30, 'the lower lip drops');
  assert.ok(Math.abs(open[37][1] - neutral[37][1]) < 1e-9, 'the eyes stay');
});

test('personOf() makes a rig person of any face: the built-in record through it renders the same bytes, a moved face renders otherwise', async () => {
  const a = await loadPerson('a');
  const p = sample('person-of');
  const reference = (await render(a, p)).bytes;
  assert.ok((await render(personOf(IDENTITIES.a, a.photo), p)).bytes.equals(reference));
  // The same photo with the landmarks shifted 40 px: another face of the photo is another person.
  const moved = personOf({ ...IDENTITIES.a, landmarks: IDENTITIES.a.landmarks.map(([x, y]): Point => [x + 40, y]) }, a.photo);
  assert.ok(!(await render(moved, p)).bytes.equals(reference));
});
