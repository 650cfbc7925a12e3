// face-api on the native backend gives what it gives on wasm (its reference here): the same faces,
// boxes within 1 px, landmarks within 0.5 px, descriptors within 0.01, and the same faces kept
// and rejected by extraction. Photos: face-api's six demo photos (1920 px group photos) and LFW
// photos of one person from ../shared. Skips without the addon (fails instead in strict mode).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { readAlignments } from '../../lib/faces/alignments';
import { createDetector, extractFaces } from '../../lib/faces/extract';
import { faceApi, faceBackendInUse, onFaceBackend, setFaceBackend, type FaceBackend } from '../../lib/faces/faceapi';
import { createFaceApiDetector, withLandmarks } from '../../lib/faces/faceapi-detector';
import { locateFaces, squareInput } from '../../lib/faces/ssd-fused';
import { descriptorDistance, faceDescriptor, faceDescriptors } from '../../lib/faces/recognition';
import type { DetectedFace } from '../../lib/faces/types';
import { decodeImage, imageToTensor, pixelTensor, type RgbImage } from '../../lib/util/image';
import { fallbacks } from '../../lib/engine/native/native-backend';
import { sharedPath, skipWithoutShared } from '../helpers/shared';
import { nativeSkip } from '../helpers/strict';

const skip = nativeSkip();
const lfwSkip = skip || skipWithoutShared('data/lfw-pair');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deepfake-lab-faceapi-native-'));
const photos: Array<{ name: string; image: RgbImage }> = [];

before(async () => {
  if (skip) return;
  await initBackend({ force: 'native' });
  for (let i = 1; i <= 6; i++) photos.push({ name: `sample${i}`, image: await decodeImage(require.resolve(`@vladmandic/face-api/demo/sample${i}.jpg`)) });
  const lfw = sharedPath('data/lfw-pair/Colin_Powell');
  if (lfw) for (const f of fs.readdirSync(lfw).sort().slice(0, 10)) photos.push({ name: f, image: await decodeImage(path.join(lfw, f)) });
});

async function detectAll(on: FaceBackend): Promise<DetectedFace[][]> {
  setFaceBackend(on);
  assert.equal(await faceBackendInUse(), on);
  const detector = await createDetector();
  const out: DetectedFace[][] = [];
  for (const p of photos) out.push(await detector.detect(p.image));
  return out;
}

test('detection and landmarks on native match wasm: same faces, boxes within 1 px, landmarks within 0.5 px', { skip }, async (t) => {
  fallbacks.clear();
  const native = await detectAll('native');
  // The nets' heavy kernels ran compiled, not as the cpu backend's JavaScript.
  for (const k of ['FusedConv2D', 'FusedDepthwiseConv2D', 'Conv2D', 'DepthwiseConv2dNative', 'Transform', 'Slice', 'Concat', 'ResizeBilinear'])
    assert.equal(fallbacks.get(k) ?? 0, 0, `${k} fell back to JavaScript`);
  const wasm = await detectAll('wasm');
  let faces = 0, worstBox = 0, worstPoint = 0;
  for (const [i, p] of photos.entries()) {
    const a = native[i]!, b = wasm[i]!;
    assert.equal(a.length, b.length, `${p.name}: ${a.length} faces on native, ${b.length} on wasm`);
    for (const [j, fa] of a.entries()) {
      const fb = b[j]!;
      assert.equal(fa.detector, fb.detector, `${p.name} face ${j}: found by ${fa.detector} on native, ${fb.detector} on wasm`);
      assert.ok(Math.abs(fa.score - fb.score) < 0.01, `${p.name} face ${j}: score ${fa.score} vs ${fb.score}`);
      for (const k of ['x', 'y', 'width', 'height'] as const) worstBox = Math.max(worstBox, Math.abs(fa.box[k] - fb.box[k]));
      for (const [m, q] of fa.landmarks.entries()) worstPoint = Math.max(worstPoint, Math.hypot(q[0] - fb.landmarks[m]![0], q[1] - fb.landmarks[m]![1]));
      faces++;
    }
  }
  t.diagnostic(`${faces} faces on ${photos.length} photos; worst box edge ${worstBox.toFixed(4)} px, worst landmark ${worstPoint.toFixed(4)} px`);
  assert.ok(faces >= 22, `the demo photos alone hold 22 faces, found ${faces}`);
  assert.ok(worstBox <= 1, `a box edge differs by ${worstBox.toFixed(3)} px`);
  assert.ok(worstPoint <= 0.5, `a landmark differs by ${worstPoint.toFixed(3)} px`);
});

test("the SSD's input is face-api's own padded 512 px square, for photos smaller and larger than 512 px, square or not", { skip }, async () => {
  const api = await faceApi('ssdMobilenetv1');
  await onFaceBackend(async () => {
    for (const [h, w] of [[250, 250], [200, 300], [300, 180], [700, 400], [1398, 1920]] as const) {
      const pixels = tf.tidy(() => tf.floor(tf.randomUniform([h, w, 3], 0, 256, 'float32', h * w)) as tf.Tensor3D);
      const netInput = await api.toNetInput(pixels as unknown as Parameters<typeof api.toNetInput>[0]);
      const theirs = netInput.toBatchTensor(512, false) as unknown as tf.Tensor4D;
      const ours = squareInput(pixels);
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0]!);
      tf.dispose([pixels, theirs, ours]);
      // Scaling up, transform's zeros past the far edges once differed by up to 106 (of 255) there.
      assert.ok(diff < 1e-3, `${h}x${w}: the SSD input differs from face-api's by ${diff}`);
    }
  });
});

test("the fused SSD and the fused, batched landmark net give face-api's own detectAllFaces().withFaceLandmarks(), on wasm and on native", { skip }, async (t) => {
  const api = await faceApi('ssdMobilenetv1', 'faceLandmark68Net');
  const ours = await createFaceApiDetector({ kind: 'ssd', minScore: 0.3 });
  const options = new api.SsdMobilenetv1Options({ minConfidence: 0.3, maxResults: 100 });
  try {
    for (const on of ['wasm', 'native'] as const) {
      setFaceBackend(on);
      let faces = 0, worstBox = 0, worstPoint = 0;
      for (const p of photos) {
        const found = await onFaceBackend(async () => {
          const pixels = pixelTensor(p.image);
          try {
            // face-api's tensors are typed with its bundled copy of TensorFlow.js's declarations.
            const stock = await api.detectAllFaces(pixels as unknown as Parameters<typeof api.detectAllFaces>[0], options).withFaceLandmarks();
            return { stock, fused: await ours.detect(p.image, pixels) };
          } finally {
            pixels.dispose();
          }
        });
        assert.equal(found.fused.length, found.stock.length, `${p.name} on ${on}: ${found.fused.length} faces fused, ${found.stock.length} by face-api`);
        for (const [j, f] of found.fused.entries()) {
          const s = found.stock[j]!;
          assert.ok(Math.abs(f.score - s.detection.score) < 1e-3, `${p.name} face ${j}: score ${f.score} vs ${s.detection.score}`);
          for (const k of ['x', 'y', 'width', 'height'] as const) worstBox = Math.max(worstBox, Math.abs(f.box[k] - s.detection.box[k]));
          s.landmarks.positions.forEach((q, m) => (worstPoint = Math.max(worstPoint, Math.hypot(q.x - f.landmarks[m]![0], q.y - f.landmarks[m]![1]))));
          faces++;
        }
      }
      t.diagnostic(`${on}: ${faces} faces; worst box edge ${worstBox.toExponential(2)} px, worst landmark ${worstPoint.toExponential(2)} px`);
      assert.ok(faces >= 22, `the demo photos alone hold 22 faces, found ${faces}`);
      // The folded batch norms and the one-step resampling change float32 rounding only.
      assert.ok(worstBox < 0.05, `${on}: a box edge differs by ${worstBox} px`);
      assert.ok(worstPoint < 0.05, `${on}: a landmark differs by ${worstPoint} px`);
    }
  } finally {
    setFaceBackend('native');
  }
});

test('a detection with nothing left inside the photo is dropped, and the others keep their own landmarks (a video frame once crashed here)', { skip }, async () => {
  const api = await faceApi('ssdMobilenetv1', 'faceLandmark68Net');
  const photo = photos[0]!.image;
  await onFaceBackend(async () => {
    const pixels = pixelTensor(photo);
    try {
      const real = await locateFaces(api, pixels, { minConfidence: 0.5, maxResults: 100 });
      assert.ok(real.length >= 2, 'the first demo photo holds several faces');
      const dims = { width: photo.width, height: photo.height };
      // Relative boxes entirely below and right of the photo: empty once clipped to it.
      const outside = [new api.FaceDetection(0.9, new api.Rect(0.2, 1.1, 0.1, 0.1), dims), new api.FaceDetection(0.9, new api.Rect(1.2, 0.3, 0.1, 0.1), dims)];
      const mixed = await withLandmarks(api, pixels, [outside[0]!, real[0]!, outside[1]!, real[1]!]);
      const alone = await withLandmarks(api, pixels, [real[0]!, real[1]!]);
      assert.equal(mixed.length, 2);
      assert.equal(mixed[0]!.detection, real[0]);
      assert.equal(mixed[1]!.detection, real[1]);
      for (const i of [0, 1]) assert.ok(mixed[i]!.points.every((p, m) => Math.hypot(p[0] - alone[i]!.points[m]![0], p[1] - alone[i]!.points[m]![1]) < 1e-3), `face ${i} kept its landmarks`);
      assert.deepEqual(await withLandmarks(api, pixels, outside), []);
    } finally {
      pixels.dispose();
    }
  });
});

test('face descriptors on native are within 0.01 of wasm (the same-person threshold is 0.6), and a batch of faces gives each its own descriptor', { skip }, async (t) => {
  const crops = photos.slice(0, 4).map((p) => tf.tidy(() => tf.image.resizeBilinear(imageToTensor(p.image), [200, 200])) as tf.Tensor3D);
  try {
    setFaceBackend('native');
    const native = [];
    for (const c of crops) native.push(await faceDescriptor(c));
    // The four as one batch (how extraction describes a photo's faces): the same descriptors.
    const batch = await faceDescriptors(crops);
    assert.equal(batch.length, crops.length);
    for (const [i, d] of batch.entries()) assert.ok(descriptorDistance(native[i]!, d) < 1e-4, `photo ${i}: batched descriptor ${descriptorDistance(native[i]!, d)} from its own`);
    setFaceBackend('wasm');
    for (const [i, c] of crops.entries()) {
      const d = descriptorDistance(native[i]!, await faceDescriptor(c));
      t.diagnostic(`photo ${i}: descriptor distance native-wasm ${d.toExponential(2)}`);
      assert.ok(d < 0.01, `photo ${i}: descriptors ${d.toFixed(4)} apart`);
    }
  } finally {
    tf.dispose(crops);
    setFaceBackend('native');
  }
});

test('extraction with the identity filter keeps and rejects the same faces on native as on wasm', { skip: lfwSkip }, async () => {
  const src = path.join(tmp, 'photos');
  fs.mkdirSync(src);
  const lfw = sharedPath('data/lfw-pair/Colin_Powell')!;
  for (const f of fs.readdirSync(lfw).sort().slice(0, 16)) fs.copyFileSync(path.join(lfw, f), path.join(src, f));
  const outcome = async (on: FaceBackend) => {
    setFaceBackend(on);
    const s = await extractFaces(src, path.join(tmp, on), { identity: 'dominant', progressStream: null });
    return readAlignments(s.alignments)!.images.flatMap((img) => img.faces.map((f) => `${img.file}#${f.index}: ${f.rejected ?? 'kept'}`));
  };
  const native = await outcome('native');
  const wasm = await outcome('wasm');
  setFaceBackend('native');
  assert.ok(native.filter((s) => s.endsWith('kept')).length >= 12, `most of 16 LFW photos give a kept face: ${native.join(', ')}`);
  assert.deepEqual(native, wasm);
});
