// The swap's maths and plumbing with stand-in models (no training): mask, colour matching, paste-back
// geometry, untouched pixels, Poisson blending, the provenance label, tensor hygiene.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { applyMatrix, applyMatrixAll } from '../../lib/faces/align';
import { templateInCrop } from '../../lib/faces/template';
import type { DetectedFace, Matrix, Point } from '../../lib/faces/types';
import { decodeImage, type RgbImage } from '../../lib/util/image';
import { matchColour } from '../../lib/swap/colour';
import { faceFrame } from '../../lib/swap/geometry';
import { labToRgb, rgbToLab } from '../../lib/swap/cielab';
import { swapMask, type SwapMaskOptions } from '../../lib/swap/blend-mask';
import type { SwapModel } from '../../lib/swap/model';
import { dilatedHull } from '../helpers/hull';
import { encodeLabelled, LABEL_PREFIX, provenanceLabel, readProvenance } from '../../lib/swap/provenance';
import { swapFaces, type SwapImageOptions } from '../../lib/swap/swap-image';
import { compareColourBlend, deltaE, meanLab } from '../../lib/lab/colour-blend';
import { colourBlendGrid } from '../../lib/viz/swap';

const GEOMETRY = { size: 128, margin: 0.2 };
const MASK: SwapMaskOptions = { forehead: 0.1, erode: 2, feather: 4, modelMask: true };
let photo: RgbImage;

before(async () => {
  await initBackend();
  photo = await decodeImage(require.resolve('@vladmandic/face-api/demo/sample1.jpg'));
});

/** A stand-in model: `decode` replaces the decoder; input preparation is the real one. */
function stubModel(decode: (faces: tf.Tensor4D) => tf.Tensor4D, inputSize = 64, cropFraction = 0.75, geometry = GEOMETRY): SwapModel {
  return { inputSize, cropFraction, geometry, identities: ['a', 'b'], data: {}, source: { checkpoint: null, step: null }, decode, dispose: () => undefined };
}

/** A face "placed" in the photo: the template under a known similarity transform. */
function placedFace(degrees: number, scale: number, at: Point): DetectedFace {
  const t = (degrees * Math.PI) / 180;
  const m: Matrix = [[scale * Math.cos(t), -scale * Math.sin(t), at[0]], [scale * Math.sin(t), scale * Math.cos(t), at[1]]];
  const landmarks = applyMatrixAll(m, templateInCrop({ size: 1, margin: 0 }).map(([x, y]): Point => [x - 0.5, y - 0.5]));
  return { box: { x: at[0] - scale / 2, y: at[1] - scale / 2, width: scale, height: scale }, score: 0.99, landmarks, detector: 'test' };
}

const OPTIONS: SwapImageOptions = { identity: 'b', mask: MASK, colour: 'none', blend: 'alpha', minScore: 0.5, minFace: 10, person: null };

test('mask: feathered like the hard hull, centred on the face, zero at the square edge, cut by the model mask', async () => {
  const face = placedFace(10, 120, [300, 200]);
  const frame = faceFrame(face.landmarks, GEOMETRY, 0.75, 64);
  const centroid = (m: ArrayLike<number>, n: number): Point => {
    let sx = 0, sy = 0, s = 0;
    for (let i = 0; i < n * n; i++) (sx += m[i] * (i % n)), (sy += m[i] * Math.floor(i / n)), (s += m[i]);
    return [sx / s, sy / s];
  };
  const hardT = await swapMask(face.landmarks, frame, null, { ...MASK, feather: 0, erode: 0 });
  const softT = await swapMask(face.landmarks, frame, null, { ...MASK, feather: 8 });
  const [hard, soft] = [await hardT.data(), await softT.data()];
  const n = frame.side;
  const [hc, sc] = [centroid(hard, n), centroid(soft, n)];
  assert.ok(Math.hypot(hc[0] - sc[0], hc[1] - sc[1]) < 3, `feathered mask centred like the hard one: ${hc} vs ${sc}`);
  const nose = applyMatrix(frame.square, face.landmarks[30]);
  assert.ok(soft[Math.round(nose[1]) * n + Math.round(nose[0])] > 0.99, 'the nose is fully inside');
  for (let i = 0; i < n; i++) for (const j of [i, i * n, (n - 1) * n + i, i * n + n - 1]) assert.equal(soft[j], 0, 'nothing at the square edge');
  const partial = Array.from(soft).filter((v) => v > 0.05 && v < 0.95).length;
  assert.ok(partial > 4 * n, `a soft edge (${partial} partial pixels)`);
  const sum = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0);
  assert.ok(sum(soft) < sum(hard), 'erosion and feathering shrink it');
  // The decoder's mask: zero on the left half of the face removes the left half.
  const half = tf.tidy(() => tf.concat([tf.zeros([64, 32, 1]), tf.ones([64, 32, 1])], 1) as tf.Tensor3D);
  const cutT = await swapMask(face.landmarks, frame, half, MASK);
  const cut = await cutT.data();
  assert.equal(cut.slice(0, n * n).filter((v, i) => i % n < n / 2 - 2 && v > 0).length, 0, 'left half removed');
  assert.ok(cut.filter((v, i) => i % n > n / 2 + 2 && v > 0.5).length > 100, 'right half kept');
  tf.dispose([hardT, softT, half, cutT]);
});

/** Pixels of a real photo (face-api's demo), interleaved RGB in [0, 1], 64x64 from its middle. */
function patch(): Float32Array {
  const out = new Float32Array(64 * 64 * 3);
  const x0 = 200, y0 = 120;
  for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) for (let c = 0; c < 3; c++) out[(y * 64 + x) * 3 + c] = photo.data[((y0 + y) * photo.width + x0 + x) * 3 + c] / 255;
  return out;
}

const rmse = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0) / a.length);

test('colour: a known colour shift is undone (Lab shift exactly by mean/std, RGB gains by both matchers)', () => {
  const original = patch();
  const weights = new Float32Array(64 * 64).fill(1);
  const lab = rgbToLab(original);
  assert.ok(rmse(labToRgb(lab), original) < 1e-4, 'Lab round trip');
  // Darker, warmer, lower contrast: an affine change per Lab channel (kept inside the gamut).
  const shiftedLab = lab.map((v, i) => (i % 3 === 0 ? 0.8 * v + 8 : i % 3 === 1 ? 0.9 * v + 4 : 0.9 * v + 6));
  const shifted = labToRgb(shiftedLab);
  const back = matchColour('lab-meanstd', shifted, original, weights);
  assert.ok(rmse(shifted, original) > 0.03, `the shift is visible (${rmse(shifted, original)})`);
  assert.ok(rmse(back, original) < 0.01, `lab-meanstd undoes it: ${rmse(back, original)}`);
  assert.ok(rmse(matchColour('histogram', shifted, original, weights), original) < 0.015, 'histogram undoes it');
  // A camera-like white balance change in RGB: not affine in Lab, so only mostly undone.
  const gains = original.map((v, i) => Math.min(1, v * [1.15, 1, 0.8][i % 3]));
  for (const m of ['lab-meanstd', 'histogram'] as const) {
    const r = matchColour(m, gains, original, weights);
    assert.ok(rmse(r, original) < 0.4 * rmse(gains, original), `${m}: ${rmse(r, original)} vs ${rmse(gains, original)}`);
  }
  assert.deepEqual(matchColour('none', shifted, original, weights), shifted);
  // Weights: only the weighted pixels' statistics count.
  const left = weights.map((_, i) => (i % 64 < 32 ? 1 : 0));
  const r = matchColour('lab-meanstd', shifted, original, left);
  const leftOnly = (a: Float32Array) => a.filter((_, i) => Math.floor(i / 3) % 64 < 32);
  assert.ok(rmse(leftOnly(r), leftOnly(original)) < 0.01);
});

/** An image of Gaussian dots at model-space points, drawn `k` times larger (side inputSize * k). */
function dots(points: Point[], inputSize: number, k = 1): tf.Tensor4D {
  const n = inputSize * k;
  const img = new Float32Array(n * n * 3).fill(0.2);
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++)
      for (const [px, py] of points) {
        const v = Math.exp(-((x + 0.5 - px * k) ** 2 + (y + 0.5 - py * k) ** 2) / (2 * (1.2 * k) ** 2));
        for (let c = 0; c < 3; c++) img[(y * n + x) * 3 + c] += 0.8 * v;
      }
  return tf.tensor4d(img, [1, n, n, 3]);
}

/**
 * A decoder that ignores its input and draws Gaussian dots at given model-space points; with
 * detail k > 1 only its detailed render (a warping model's larger photo) has them.
 */
function markerModel(points: Point[], inputSize = 64, detail = 1): SwapModel {
  const img = dots(detail > 1 ? [] : points, inputSize), big = dots(points, inputSize, detail);
  const tiled = (t: tf.Tensor4D) => (faces: tf.Tensor4D) => tf.tidy(() => t.tile([faces.shape[0], 1, 1, 1]) as tf.Tensor4D);
  const model = stubModel(tiled(img), inputSize);
  return detail > 1 ? { ...model, detail, decodeDetailed: tiled(big) } : model;
}

test('paste-back geometry: a synthetic face placed with a known transform comes back to the same place', async () => {
  // Model-space positions of the template's eye centres and nose tip.
  const { side, offset } = { side: Math.round(GEOMETRY.size * 0.75), offset: Math.floor((GEOMETRY.size - Math.round(GEOMETRY.size * 0.75)) / 2) };
  const t = templateInCrop(GEOMETRY);
  const keys = [30, 36, 45, 48, 54];
  const inModel = keys.map((k): Point => [((t[k][0] - offset) * 64) / side, ((t[k][1] - offset) * 64) / side]);
  const grey: RgbImage = { width: 400, height: 300, data: new Uint8Array(400 * 300 * 3).fill(51) };
  // detail 3: a warping model's render three times larger, pasted through the same frame.
  for (const [deg, scale, at, detail] of [[0, 160, [200, 150], 1], [23, 140, [180, 160], 1], [-35, 110, [250, 140], 1], [23, 140, [180, 160], 3]] as Array<[number, number, Point, number]>) {
    const model = markerModel(inModel, 64, detail);
    const face = placedFace(deg, scale, at);
    const r = await swapFaces(grey, [face], model, { ...OPTIONS, mask: { ...MASK, erode: 0, forehead: 0.3 } });
    assert.equal(r.swapped, 1);
    for (const [j, k] of keys.entries()) {
      // Brightness-weighted centroid of the dot near where the face's landmark is.
      const [ex, ey] = face.landmarks[k];
      let sx = 0, sy = 0, s = 0;
      for (let y = Math.floor(ey - 6); y <= ey + 6; y++)
        for (let x = Math.floor(ex - 6); x <= ex + 6; x++) {
          const v = Math.max(0, r.image.data[(y * 400 + x) * 3] - 60);
          (sx += v * (x + 0.5)), (sy += v * (y + 0.5)), (s += v);
        }
      const err = Math.hypot(sx / s - ex, sy / s - ey);
      assert.ok(err < 0.5, `rotation ${deg}, detail ${detail}, landmark ${k} (${inModel[j].map((v) => v.toFixed(1))}): off by ${err.toFixed(2)} px`);
    }
  }
});

test('round trip: with a decoder that returns its input, the face comes back where it was', async () => {
  // Crops finer than the photo's face, and no resize to the model: only resampling blur is left.
  const identity = stubModel((faces) => faces.clone(), 192, 0.75, { size: 256, margin: 0.2 });
  // Where face-api's demo photo is most textured: a misplaced paste would show there.
  const face = placedFace(12, 130, [1540, 640]);
  const r = await swapFaces(photo, [face], identity, { ...OPTIONS, mask: { ...MASK, feather: 0, erode: 6 } });
  // Mean error in the face's core against the original moved by (dx, dy): least at no move.
  const error = (dx: number, dy: number) => {
    let s = 0, n = 0;
    const [nx, ny] = face.landmarks[30].map(Math.round);
    for (let y = ny - 30; y <= ny + 30; y++)
      for (let x = nx - 30; x <= nx + 30; x++) {
        if (Math.hypot(x - nx, y - ny) > 30) continue;
        for (let c = 0; c < 3; c++) (s += Math.abs(r.image.data[(y * photo.width + x) * 3 + c] - photo.data[((y + dy) * photo.width + x + dx) * 3 + c])), n++;
      }
    return s / n;
  };
  const still = error(0, 0);
  for (const [dx, dy] of [[-1, 0], [1, 0], [0, -1], [0, 1]]) {
    const moved = error(dx, dy);
    assert.ok(still < 0.8 * moved, `round-trip error ${still.toFixed(2)} vs the original moved by (${dx}, ${dy}): ${moved.toFixed(2)}`);
  }
});

test('outside the dilated mask the photo is bit-identical, through PNG, for alpha and Poisson blending', async () => {
  const face = placedFace(-8, 140, [320, 200]);
  const model = stubModel((faces) => tf.tidy(() => tf.onesLike(faces).mul(0.9).sub(faces.mul(0.5)) as tf.Tensor4D), 64);
  for (const blend of ['alpha', 'poisson'] as const) {
    const r = await swapFaces(photo, [face], model, { ...OPTIONS, blend, colour: 'lab-meanstd', mask: MASK });
    const out = await decodeImage(await encodeLabelled(r.image, 'png'));
    // Feather (Gaussian, sigma feather/2) reaches 1.5 feathers out; crop pixels -> photo pixels, plus 2 for resampling.
    const scale = 140 / (GEOMETRY.size * (1 - 2 * GEOMETRY.margin));
    const inside = dilatedHull(face.landmarks, MASK.forehead, 1.5 * MASK.feather * scale + 2, photo.width, photo.height);
    let changedOutside = 0, changedInside = 0;
    for (let i = 0; i < inside.length; i++) {
      const diff = out.data[i * 3] !== photo.data[i * 3] || out.data[i * 3 + 1] !== photo.data[i * 3 + 1] || out.data[i * 3 + 2] !== photo.data[i * 3 + 2];
      if (diff && inside[i]) changedInside++;
      if (diff && !inside[i]) changedOutside++;
    }
    assert.equal(changedOutside, 0, `${blend}: pixels changed outside the dilated mask`);
    assert.ok(changedInside > 5000, `${blend}: the face region changed (${changedInside} pixels)`);
  }
});

test('Poisson blending meets the photo at the mask border where alpha blending shows a step', async () => {
  const face = placedFace(0, 140, [320, 200]);
  // A face much brighter than the photo: the colour step is what Poisson cloning removes.
  const model = stubModel((faces) => tf.tidy(() => faces.mul(0.3).add(0.7) as tf.Tensor4D), 64);
  const step = async (blend: 'alpha' | 'poisson') => {
    const r = await swapFaces(photo, [face], model, { ...OPTIONS, blend, mask: { ...MASK, feather: 0, erode: 0 } });
    // Mean change just inside the hull's edge.
    const inner = dilatedHull(face.landmarks, MASK.forehead, 0, photo.width, photo.height);
    const shrunk = dilatedHull(face.landmarks, MASK.forehead, -4, photo.width, photo.height);
    let s = 0, n = 0;
    for (let i = 0; i < inner.length; i++) if (inner[i] && !shrunk[i]) for (let c = 0; c < 3; c++) (s += Math.abs(r.image.data[i * 3 + c] - photo.data[i * 3 + c])), n++;
    return s / n;
  };
  const [alpha, poisson] = [await step('alpha'), await step('poisson')];
  assert.ok(poisson < 0.5 * alpha, `border step: poisson ${poisson.toFixed(1)} vs alpha ${alpha.toFixed(1)}`);
});

test('the provenance label is in every output, PNG and JPEG, and reads back', async () => {
  const label = provenanceLabel();
  assert.match(label, new RegExp(`^${LABEL_PREFIX} \\d+\\.\\d+\\.\\d+`));
  const img: RgbImage = { width: 32, height: 24, data: new Uint8Array(32 * 24 * 3).fill(100) };
  const png = await readProvenance(await encodeLabelled(img, 'png'));
  assert.deepEqual([png.exif, png.xmp, png.pngText], [label, label, label]);
  assert.match(png.digitalSourceType ?? '', /compositeSynthetic$/);
  const jpeg = await readProvenance(await encodeLabelled(img, 'jpeg'));
  assert.deepEqual([jpeg.exif, jpeg.xmp, jpeg.pngText], [label, label, null]);
  // The pixels of a PNG are exactly the ones given.
  assert.deepEqual((await decodeImage(await encodeLabelled(img, 'png'), { minSide: 1 })).data, img.data);
});

test('swapping leaves no tensors behind', async () => {
  const model = stubModel((faces) => faces.clone(), 64);
  const face = placedFace(5, 120, [300, 200]);
  await swapFaces(photo, [face], model, OPTIONS);
  const before = tf.memory().numTensors;
  for (const blend of ['alpha', 'poisson'] as const) await swapFaces(photo, [face], model, { ...OPTIONS, blend, colour: 'histogram', stages: true });
  assert.equal(tf.memory().numTensors, before);
});

test('colour and blend side by side: every matcher x blender, each scored by the ΔE of its mean colour against the photo\'s own face', async (t) => {
  const white = { data: new Uint8Array(4 * 3).fill(255), width: 2, height: 2 };
  const lab = meanLab(white, white);
  assert.ok(Math.abs(lab[0] - 100) < 0.01 && Math.abs(lab[1]) < 0.01 && Math.abs(lab[2]) < 0.01, `white is L 100: ${lab}`);
  assert.equal(deltaE([50, 10, -5], [50, 10, -5]), 0);
  assert.equal(deltaE([50, 0, 0], [53, 4, 0]), 5);

  // A decoder that paints the face in a strong red cast: what colour matching is for.
  const face = placedFace(4, 140, [320, 200]);
  const reddish = stubModel((faces) => tf.tidy(() => faces.mul(0.5).add(tf.tensor1d([0.45, 0.05, 0.05])) as tf.Tensor4D), 64);
  const c = await compareColourBlend(photo, [face], reddish, { identity: 'b', mask: MASK, minScore: 0.5, minFace: 10, person: null });
  assert.deepEqual(c.cells.map((x) => `${x.colour}+${x.blend}`), ['none+alpha', 'none+poisson', 'lab-meanstd+alpha', 'lab-meanstd+poisson', 'histogram+alpha', 'histogram+poisson']);
  const e = Object.fromEntries(c.cells.map((x) => [`${x.colour}+${x.blend}`, x.deltaE]));
  t.diagnostic(Object.entries(e).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', '));
  assert.ok(e['none+alpha']! > 15, `the red cast shows without matching: ΔE ${e['none+alpha']}`);
  for (const k of ['lab-meanstd+alpha', 'histogram+alpha', 'none+poisson']) assert.ok(e[k]! < 0.4 * e['none+alpha']!, `${k} removes most of it: ΔE ${e[k]} vs ${e['none+alpha']}`);
  const png = colourBlendGrid(c);
  const img = await decodeImage(png, { minSide: 1 });
  assert.deepEqual([img.width, img.height], [4 * 128, 3 * (128 + 14)], 'a row per matcher: own face, matched, alpha, poisson');
});

test('a detailed render is pasted at its own resolution: a pattern finer than the model input survives, the plain decode of it does not', async () => {
  const k = 4, s = 64, n = s * k;
  // 2 px checks at 4x: the 64 px decode of the same face is their average, flat grey.
  const checks = new Float32Array(n * n * 3);
  for (let i = 0; i < n * n; i++) checks.fill(((i % n >> 1) + (Math.floor(i / n) >> 1)) % 2 ? 0.8 : 0.2, i * 3, i * 3 + 3);
  const flat = stubModel((faces) => tf.tidy(() => tf.fill([faces.shape[0], s, s, 3], 0.5) as tf.Tensor4D));
  const detailed: SwapModel = { ...flat, detail: k, decodeDetailed: (faces) => tf.tidy(() => tf.tensor4d(checks, [1, n, n, 3]).tile([faces.shape[0], 1, 1, 1]) as tf.Tensor4D) };
  const grey: RgbImage = { width: 600, height: 500, data: new Uint8Array(600 * 500 * 3).fill(128) };
  const face = placedFace(0, 360, [300, 250]);
  const spread = async (model: SwapModel) => {
    const r = await swapFaces(grey, [face], model, { ...OPTIONS, sharpen: { amount: 0, radius: 1 } });
    assert.equal(r.swapped, 1);
    // Standard deviation of the red channel in a 40 px square around the nose tip.
    const [cx, cy] = face.landmarks[30].map(Math.round);
    const v: number[] = [];
    for (let y = cy - 20; y < cy + 20; y++) for (let x = cx - 20; x < cx + 20; x++) v.push(r.image.data[(y * 600 + x) * 3] / 255);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    return Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  };
  const [withDetail, without] = [await spread(detailed), await spread(flat)];
  assert.ok(withDetail > 0.15, `the checks are there: spread ${withDetail.toFixed(3)}`);
  assert.ok(without < 0.01, `the plain decode is flat: spread ${without.toFixed(3)}`);
});
