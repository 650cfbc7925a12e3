// The geometry and measurements under face extraction, on synthetic inputs with known answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { applyMatrix, applyMatrixAll, composeMatrix, fitSimilarity, invertMatrix, matrixRotationScale } from '../../lib/faces/align';
import { dominantIdentity, referenceIdentity } from '../../lib/faces/identity-filter';
import { faceMask, maskOutline } from '../../lib/faces/mask';
import { estimateYaw, sharpness } from '../../lib/faces/filter-measures';
import { alignmentMatrix, eyeCentres, TEMPLATE, templateInCrop } from '../../lib/faces/template';
import type { Matrix, Point } from '../../lib/faces/types';
import { warpAffine } from '../../lib/faces/resample';
import { initBackend } from '../../lib/engine/backend';
import { decodeImage, type RgbImage } from '../../lib/util/image';
import { mulberry32 } from '../helpers/rng';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

function similarity(degrees: number, scale: number, tx: number, ty: number): Matrix {
  const r = (degrees * Math.PI) / 180;
  return [
    [scale * Math.cos(r), -scale * Math.sin(r), tx],
    [scale * Math.sin(r), scale * Math.cos(r), ty],
  ];
}

test('fitSimilarity recovers a known rotation, scale and shift exactly', () => {
  const rand = mulberry32(3);
  for (const [deg, scale, tx, ty] of [[0, 1, 0, 0], [17, 2.5, -40, 12.5], [-123, 0.31, 300, -7], [179, 1.7, 3, 4]]) {
    const truth = similarity(deg, scale, tx, ty);
    const src: Point[] = Array.from({ length: 30 }, () => [rand() * 500, rand() * 300]);
    const fitted = fitSimilarity(src, applyMatrixAll(truth, src));
    for (let r = 0; r < 2; r++) for (let c = 0; c < 3; c++) close(fitted[r][c], truth[r][c], 1e-9, `m[${r}][${c}]`);
    const { degrees, scale: s } = matrixRotationScale(fitted);
    close(degrees, deg, 1e-9, 'rotation');
    close(s, scale, 1e-12, 'scale');
  }
});

test('fitSimilarity with a fixed rotation fits scale and shift by least squares', () => {
  const truth = similarity(30, 2, 5, -5);
  const src: Point[] = [[0, 0], [10, 0], [0, 10], [7, 3]];
  const fitted = fitSimilarity(src, applyMatrixAll(truth, src), { rotation: (30 * Math.PI) / 180 });
  for (let r = 0; r < 2; r++) for (let c = 0; c < 3; c++) close(fitted[r][c], truth[r][c], 1e-9, `m[${r}][${c}]`);
  // Rotation forced to 0 on a rotated set: the result has no rotation, and the best scale.
  const level = fitSimilarity(src, applyMatrixAll(similarity(90, 1, 0, 0), src), { rotation: 0 });
  close(matrixRotationScale(level).degrees, 0, 1e-12, 'forced rotation');
});

test('invertMatrix and composeMatrix undo each other', () => {
  const m = similarity(-33, 1.9, 17, -4);
  const id = composeMatrix(invertMatrix(m), m);
  for (let r = 0; r < 2; r++) for (let c = 0; c < 3; c++) close(id[r][c], r === c ? 1 : 0, 1e-12, `identity[${r}][${c}]`);
  const p: Point = [123.4, -56.7];
  const back = applyMatrix(invertMatrix(m), applyMatrix(m, p));
  close(back[0], p[0], 1e-9, 'x');
  close(back[1], p[1], 1e-9, 'y');
});

test('alignmentMatrix puts a rotated, scaled template face back upright on the template', () => {
  const geometry = { size: 256, margin: 0.2 };
  const target = templateInCrop(geometry);
  const truth = similarity(25, 0.7, 310, 95);
  const face = applyMatrixAll(truth, TEMPLATE.map(([x, y]): Point => [x * 300, y * 300]));
  const m = alignmentMatrix(face, geometry);
  const aligned = applyMatrixAll(m, face);
  for (let i = 0; i < 68; i++) {
    close(aligned[i][0], target[i][0], 1e-6, `x${i}`);
    close(aligned[i][1], target[i][1], 1e-6, `y${i}`);
  }
  const [l, r] = eyeCentres(aligned);
  close(Math.atan2(r[1] - l[1], r[0] - l[0]), 0, 1e-9, 'eyes level');
});

test('warpAffine moves a pixel to where the matrix says, and back', async () => {
  await initBackend();
  const before = tf.memory().numTensors;
  // A 100x80 black image with one 2x2 white square centred on (30, 50).
  const img = tf.tidy(() => {
    const buf = tf.buffer([80, 100, 3]);
    for (const y of [49, 50]) for (const x of [29, 30]) for (let c = 0; c < 3; c++) buf.set(1, y, x, c);
    return buf.toTensor() as tf.Tensor3D;
  });
  const m = similarity(40, 1.5, 60, -10);
  const out = warpAffine(img, m, 160);
  // Centre of mass of the bright spot in the output vs the matrix image of (30, 50).
  const v = (await out.array()) as number[][][];
  let sx = 0, sy = 0, sw = 0;
  v.forEach((row, y) => row.forEach((px, x) => { sx += px[0] * (x + 0.5); sy += px[0] * (y + 0.5); sw += px[0]; }));
  const want = applyMatrix(m, [30, 50]);
  close(sx / sw, want[0], 0.3, 'spot x');
  close(sy / sw, want[1], 0.3, 'spot y');
  // Warping back recovers the original where the first warp kept the pixels.
  const back = warpAffine(out, invertMatrix(m), 100, 80);
  const diff = tf.tidy(() => back.sub(img).abs().slice([40, 20, 0], [20, 20, 3]).max().dataSync()[0]);
  assert.ok(diff < 0.35, `round trip differs by ${diff}`);
  tf.dispose([img, out, back]);
  assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
});

test('the face mask covers the face, feathers its edge, erodes and extends to the forehead', async () => {
  const face = templateInCrop({ size: 128, margin: 0.2 });
  const hard = await faceMask(face, 128, 128, { feather: 0, forehead: 0 });
  const at = (m: Float32Array, [x, y]: Point) => m[Math.round(y) * 128 + Math.round(x)];
  assert.equal(at(hard, face[30]), 1, 'nose tip inside');
  assert.equal(at(hard, [2, 2]), 0, 'corner outside');
  const area = (m: Float32Array) => m.reduce((s, v) => s + v, 0);
  const forehead = await faceMask(face, 128, 128, { feather: 0, forehead: 0.3 });
  assert.ok(area(forehead) > area(hard) * 1.1, 'forehead extension adds area');
  const above = Math.min(...face.slice(17, 27).map((p) => p[1])) - 5;
  assert.equal(at(forehead, [64, above]), 1, 'the forehead above the brows is inside');
  const eroded = await faceMask(face, 128, 128, { feather: 0, forehead: 0, erode: 4 });
  assert.ok(area(eroded) < area(hard) * 0.95, 'erosion shrinks it');
  const soft = await faceMask(face, 128, 128, { feather: 10, forehead: 0 });
  const partial = Array.from(soft).filter((v) => v > 0.05 && v < 0.95).length;
  assert.ok(partial > 300, `a soft edge of ${partial} partial pixels`);
  assert.equal(maskOutline(face, 0).length >= 10, true);
});

async function photo(): Promise<RgbImage> {
  return decodeImage(require.resolve('@vladmandic/face-api/demo/sample3.jpg'));
}

test('sharpness drops when a photo is blurred', async () => {
  const img = await photo();
  const crop = await sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } }).extract({ left: 700, top: 200, width: 400, height: 400 });
  const sharpRaw = await crop.clone().raw().toBuffer();
  const blurRaw = await crop.clone().blur(4).raw().toBuffer();
  const a = await sharpness({ data: sharpRaw, width: 400, height: 400 });
  const b = await sharpness({ data: blurRaw, width: 400, height: 400 });
  assert.ok(b < a / 3, `blurred ${b.toFixed(1)} vs sharp ${a.toFixed(1)}`);
});

test('estimateYaw: 0 for a frontal face, signed and growing as the nose moves sideways', () => {
  const frontal = TEMPLATE.map(([x, y]): Point => [x * 100, y * 100]);
  close(estimateYaw(frontal), 0, 3, 'frontal');
  const turned = frontal.map((p, i): Point => (i >= 27 && i <= 35 ? [p[0] + 15, p[1]] : p));
  const more = frontal.map((p, i): Point => (i >= 27 && i <= 35 ? [p[0] + 35, p[1]] : p));
  assert.ok(estimateYaw(turned) < -10 || estimateYaw(turned) > 10, 'turned');
  assert.ok(Math.abs(estimateYaw(more)) > Math.abs(estimateYaw(turned)), 'more turned, larger angle');
  const mirrored = frontal.map((p, i): Point => (i >= 27 && i <= 35 ? [p[0] - 15, p[1]] : p));
  // The template is not perfectly symmetric: compare both turns relative to it.
  const y0 = estimateYaw(frontal);
  close(estimateYaw(mirrored) - y0, -(estimateYaw(turned) - y0), 1, 'sign flips with direction');
});

test('dominantIdentity keeps the largest group and rejects the others; a reference picks its own', () => {
  const rand = mulberry32(9);
  const around = (centre: number[], spread: number) => centre.map((v) => v + (rand() - 0.5) * spread);
  const a = Array.from({ length: 128 }, () => rand() - 0.5);
  const b = Array.from({ length: 128 }, () => rand() - 0.5);
  const faces = [...Array.from({ length: 10 }, () => around(a, 0.06)), ...Array.from({ length: 4 }, () => around(b, 0.06)), around(b.map((v) => -v), 0.06)];
  const d = dominantIdentity(faces);
  assert.deepEqual(d.isPerson, [...Array(10).fill(true), ...Array(5).fill(false)]);
  const r = referenceIdentity(faces, [around(b, 0.06)]);
  assert.deepEqual(r.isPerson, [...Array(10).fill(false), ...Array(4).fill(true), false]);
});
