// Extraction pictures for notebooks: detections drawn on a photo, and grids of crops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeAlignments, type AlignmentsFile, type FaceRecord } from '../../lib/faces/alignments';
import { decodeImage, encodeImage, type RgbImage } from '../../lib/util/image';
import { annotatePhoto, extractionGallery } from '../../lib/viz/faces';
import { imageGrid } from '../../lib/util/image-grid';

const solid = (w: number, h: number, rgb: [number, number, number]): RgbImage => ({
  width: w,
  height: h,
  data: Uint8Array.from({ length: w * h * 3 }, (_, i) => rgb[i % 3]),
});
const pixel = (img: RgbImage, x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));

test('annotatePhoto draws kept faces in green and rejected ones in red, with landmarks', async () => {
  const photo = solid(200, 120, [128, 128, 128]);
  const png = annotatePhoto(photo, [
    { box: { x: 20, y: 30, width: 60, height: 60 }, landmarks: [[50, 60]], kept: true, label: '0.99' },
    { box: { x: 120, y: 30, width: 60, height: 60 }, kept: false, label: 'blurred' },
  ]);
  const out = await decodeImage(png, { minSide: 1 });
  assert.deepEqual([out.width, out.height], [200, 120]);
  const [r1, g1] = pixel(out, 20, 60);
  assert.ok(g1 > 150 && r1 < 100, `left box edge is green: ${pixel(out, 20, 60)}`);
  const [r2, g2] = pixel(out, 120, 60);
  assert.ok(r2 > 200 && g2 < 100, `right box edge is red: ${pixel(out, 120, 60)}`);
  assert.ok(pixel(out, 50, 60)[1] > 150, 'the landmark dot is drawn');
  assert.deepEqual(pixel(out, 100, 110), [128, 128, 128], 'the rest of the photo is untouched');
});

test('imageGrid lays images out in rows of square cells with captions', async () => {
  const png = imageGrid([solid(10, 10, [255, 0, 0]), solid(20, 20, [0, 255, 0]), solid(5, 5, [0, 0, 255])], { columns: 2, cell: 32, captions: ['a', 'b', 'c'] });
  const out = await decodeImage(png, { minSide: 1 });
  assert.deepEqual([out.width, out.height], [64, 2 * (32 + 14)]);
  assert.deepEqual(pixel(out, 16, 16), [255, 0, 0]);
  assert.deepEqual(pixel(out, 48, 16), [0, 255, 0]);
  assert.deepEqual(pixel(out, 16, 46 + 16), [0, 0, 255]);
});

test('extractionGallery shows kept crops, and rejected ones captioned by reason', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deepfake-lab-gallery-'));
  const face = (file: string | null, rejected: string | null): FaceRecord => ({
    index: 0, box: { x: 0, y: 0, width: 10, height: 10 }, score: 0.9, detector: 'ssd', landmarks: [], matrix: null, yaw: 0, sharpness: 50,
    descriptor: null, identityDistance: null, file, rejected,
  });
  fs.mkdirSync(path.join(dir, 'rejected', 'blurred'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'a_0.png'), await encodeImage(solid(64, 64, [200, 10, 10])));
  fs.writeFileSync(path.join(dir, 'b_0.png'), await encodeImage(solid(64, 64, [10, 200, 10])));
  fs.writeFileSync(path.join(dir, 'rejected', 'blurred', 'c_0.png'), await encodeImage(solid(64, 64, [10, 10, 200])));
  const data: AlignmentsFile = {
    version: 1, createdBy: 'test', source: dir, options: {}, identity: null,
    images: ['a', 'b', 'c', 'd'].map((n, i) => ({
      file: `${n}.jpg`, bytes: 1, mtimeMs: 1, width: 64, height: 64, status: 'done', reason: null, detail: null, hash: null, duplicateOf: null,
      faces: [i === 2 ? face('rejected/blurred/c_0.png', 'blurred') : i === 3 ? face(null, 'too small') : face(`${n}_0.png`, null)],
    })),
  };
  await writeAlignments(path.join(dir, 'alignments.json'), data);
  const g = await extractionGallery(dir, { cell: 40 });
  assert.equal(g.keptCount, 2);
  assert.equal(g.rejectedCount, 1, 'faces without a crop are not shown');
  const kept = await decodeImage(g.kept, { minSide: 1 });
  assert.deepEqual([kept.width, kept.height], [80, 40]);
  assert.ok(g.rejected);
  const rejected = await decodeImage(g.rejected!, { minSide: 1 });
  assert.deepEqual(pixel(rejected, 20, 20), [10, 10, 200]);
});
