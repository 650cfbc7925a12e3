// Face extraction on real photos: face-api's six demo photos, the hostile files of
// ../shared/data/bad-inputs, and LFW photos of two people for the identity filter.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { applyMatrixAll, invertMatrix } from '../../lib/faces/align';
import { readAlignments, type AlignmentsFile } from '../../lib/faces/alignments';
import { extractFaces, type ExtractSummary } from '../../lib/faces/extract';
import { cropLandmarks } from '../../lib/faces/recognition';
import { eyeCentres, templateInCrop } from '../../lib/faces/template';
import type { Point } from '../../lib/faces/types';
import { decodeImage, imageToTensor } from '../../lib/util/image';
import { runCli } from '../helpers/cli';
import { sharedPath, skipWithoutShared } from '../helpers/shared';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deepfake-lab-extract-'));
const demoDir = path.join(tmp, 'demo');
const demoOut = path.join(tmp, 'demo-faces');
let demo: ExtractSummary;
let demoAlignments: AlignmentsFile;

before(async () => {
  // face-api ships six real group photos; copy them so the input folder holds nothing else.
  fs.mkdirSync(demoDir);
  for (let i = 1; i <= 6; i++) fs.copyFileSync(require.resolve(`@vladmandic/face-api/demo/sample${i}.jpg`), path.join(demoDir, `sample${i}.jpg`));
  demo = await extractFaces(demoDir, demoOut, { progressStream: null });
  demoAlignments = readAlignments(demo.alignments)!;
});

const keptFaces = (a: AlignmentsFile) => a.images.flatMap((img) => img.faces.filter((f) => !f.rejected).map((f) => ({ img, f })));
const angleOf = ([l, r]: [Point, Point]) => (Math.atan2(r[1] - l[1], r[0] - l[0]) * 180) / Math.PI;

test('demo photos: all 22 faces are found and written (the photos show 3, 3, 3, 4, 5 and 4 people)', () => {
  assert.equal(demo.images, 6);
  assert.equal(demo.faces, 22);
  assert.equal(demo.written, 22);
  assert.deepEqual(demo.skipped, {});
  const pngs = fs.readdirSync(demoOut).filter((f) => f.endsWith('.png'));
  assert.equal(pngs.length, 22);
  assert.deepEqual(demoAlignments.images.map((i) => i.faces.length), [3, 3, 3, 4, 5, 4]);
});

test('demo photos: crops are upright and centred (eyes level within 3 degrees, eye centres within 5% of the template)', async () => {
  const size = 256;
  const [tl, tr] = eyeCentres(templateInCrop({ size, margin: 0.2 }));
  const offset = ([l, r]: [Point, Point]) => Math.max(Math.hypot(l[0] - tl[0], l[1] - tl[1]), Math.hypot(r[0] - tr[0], r[1] - tr[1])) / size;
  const redetected: Array<{ angle: number; offset: number }> = [];
  for (const { f } of keptFaces(demoAlignments)) {
    // The detector's landmarks, carried into the crop by the stored matrix.
    const eyes = eyeCentres(applyMatrixAll(f.matrix!, f.landmarks));
    assert.ok(Math.abs(angleOf(eyes)) <= 3, `${f.file}: eyes tilted ${angleOf(eyes).toFixed(2)} degrees`);
    assert.ok(offset(eyes) <= 0.05, `${f.file}: eye centres ${(offset(eyes) * 100).toFixed(1)}% off`);
    // And the landmark net run again on the written crop itself (no detector: it misses tight crops).
    const crop = imageToTensor(await decodeImage(path.join(demoOut, f.file!)));
    const again = eyeCentres(await cropLandmarks(crop));
    crop.dispose();
    redetected.push({ angle: Math.abs(angleOf(again)), offset: offset(again) });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  assert.ok(median(redetected.map((r) => r.angle)) <= 3, 'landmarks found again on the crops: eyes level');
  assert.ok(median(redetected.map((r) => r.offset)) <= 0.05, 'landmarks found again on the crops: eyes where the template has them');
});

test('mapping back: landmarks and pixels of every crop map back into the original photo', async () => {
  for (const { img, f } of keptFaces(demoAlignments)) {
    const inverse = invertMatrix(f.matrix!);
    const inCrop = applyMatrixAll(f.matrix!, f.landmarks);
    const back = applyMatrixAll(inverse, inCrop);
    back.forEach((p, i) => assert.ok(Math.hypot(p[0] - f.landmarks[i][0], p[1] - f.landmarks[i][1]) < 1, `${f.file} landmark ${i}`));
    // Pixels: the crop's colour at each landmark equals the photo's colour where the inverse lands.
    const photo = await decodeImage(path.join(demoDir, img.file));
    const crop = await decodeImage(path.join(demoOut, f.file!));
    const px = (im: typeof photo, [x, y]: Point, c: number) => im.data[(Math.floor(y) * im.width + Math.floor(x)) * 3 + c];
    let diff = 0;
    for (const p of inCrop) {
      const q = applyMatrixAll(inverse, [p])[0];
      for (let c = 0; c < 3; c++) diff += Math.abs(px(crop, p, c) - px(photo, q, c));
    }
    assert.ok(diff / (68 * 3) < 12, `${f.file}: crop and photo differ by ${(diff / 204).toFixed(1)} per channel at the landmarks`);
  }
});

test('a rerun skips every photo already done and writes nothing new', async () => {
  const mtimes = fs.readdirSync(demoOut).filter((f) => f.endsWith('.png')).map((f) => fs.statSync(path.join(demoOut, f)).mtimeMs);
  const again = await extractFaces(demoDir, demoOut, { progressStream: null });
  assert.equal(again.processed, 0);
  assert.equal(again.written, 22);
  assert.deepEqual(fs.readdirSync(demoOut).filter((f) => f.endsWith('.png')).map((f) => fs.statSync(path.join(demoOut, f)).mtimeMs), mtimes);
});

test('an interrupted run resumes where it stopped; other options rewrite cleanly', async () => {
  const out = path.join(tmp, 'resume');
  const controller = new AbortController();
  const first = await extractFaces(demoDir, out, {
    size: 128,
    progressStream: null,
    onProgress: (s) => s.done === 2 && controller.abort(),
    signal: controller.signal,
  });
  assert.equal(first.interrupted, true);
  assert.equal(first.processed, 2);
  assert.equal(readAlignments(first.alignments)!.images.length, 2, 'the two finished photos were saved');
  const second = await extractFaces(demoDir, out, { size: 128, progressStream: null });
  assert.equal(second.interrupted, false);
  assert.equal(second.processed, 4, 'only the four missing photos are processed');
  assert.equal(second.written, 22);
  // Other options: a clean rewrite at the new size, nothing left from the old run.
  const third = await extractFaces(demoDir, out, { size: 96, progressStream: null });
  assert.equal(third.processed, 6);
  const pngs = fs.readdirSync(out).filter((f) => f.endsWith('.png'));
  assert.equal(pngs.length, 22);
  for (const f of pngs) assert.equal((await decodeImage(path.join(out, f))).width, 96);
  assert.ok(!fs.readdirSync(out).some((f) => f.endsWith('.tmp')), 'no temporary files left');
});

test('the tiny detector finds the faces too', async () => {
  const r = await extractFaces(demoDir, path.join(tmp, 'tiny'), { detector: 'tiny', progressStream: null });
  assert.ok(r.faces >= 18, `tiny detector found ${r.faces}`);
  assert.ok(r.written >= 18);
});

const badSkip = skipWithoutShared('data/bad-inputs');
test('bad inputs: every file gets its expected outcome and the run goes on', { skip: badSkip }, async () => {
  const dir = sharedPath('data/bad-inputs')!;
  const out = path.join(tmp, 'bad');
  const r = await extractFaces(dir, out, { progressStream: null });
  const a = readAlignments(r.alignments)!;
  const byFile = new Map(a.images.map((i) => [i.file, i]));
  const rejected = (file: string, reason: string) => {
    const rec = byFile.get(file);
    assert.equal(rec?.status, 'rejected', file);
    assert.equal(rec?.reason, reason, file);
  };
  rejected('empty.jpg', 'empty file');
  rejected('truncated.jpg', 'corrupt');
  rejected('text-named.jpg', 'not an image');
  rejected('html-error-page.jpg', 'not an image');
  rejected('decompression-bomb.png', 'too many pixels');
  rejected('external-ref.svg', 'svg is not a photo input');
  rejected('tiny-8px.jpg', 'too small');
  assert.ok(!byFile.has('.hiddenTag'), 'hidden files are ignored');
  // Eight encodings of one portrait: the face is found in each. The seven 250 px copies are one
  // photo: the first is kept, the other six rejected as duplicates. The GIF's frame is 200 px and
  // hashes 6-8 bits away, at the edge of what counts as the same photo.
  const portraits = ['cmyk.jpg', 'grayscale.png', 'with-alpha.png', 'sixteen-bit.png', 'exif-rotated.jpg', 'photo.webp', 'Upper Case Ünïcode name.JPG', 'animated.gif'];
  for (const file of portraits) {
    const rec = byFile.get(file);
    assert.equal(rec?.status, 'done', file);
    assert.equal(rec!.faces.length, 1, `${file}: the face is found`);
    assert.ok(rec!.faces[0].rejected === null || rec!.faces[0].rejected === 'duplicate', `${file}: ${rec!.faces[0].rejected}`);
  }
  const kept250 = portraits.filter((f) => f !== 'animated.gif' && byFile.get(f)!.faces[0].rejected === null);
  assert.equal(kept250.length, 1, `one 250 px copy kept: ${kept250}`);
  // EXIF honoured: the face found in the rotated file is upright (eyes above the mouth).
  const exif = byFile.get('exif-rotated.jpg')!.faces[0].landmarks;
  assert.ok(eyeCentres(exif)[0][1] < exif[57][1], 'eyes above the chin');
  const noFace = byFile.get('no-face.jpg')!;
  assert.equal(noFace.status, 'done');
  assert.equal(noFace.faces.length, 0);
  assert.equal(r.skipped['no face'], 1);
  assert.equal(r.images, 16, 'sixteen files have image names');
});

const lfwSkip = skipWithoutShared('data/lfw-pair');
function copySome(person: string, count: number, into: string): string[] {
  const dir = path.join(sharedPath('data/lfw-pair')!, person);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.jpg')).sort().slice(0, count);
  for (const f of files) fs.copyFileSync(path.join(dir, f), path.join(into, f));
  return files;
}

test('identity: in a folder of Bush photos with a few of Powell, the Powell faces are "not the person"', { skip: lfwSkip }, async () => {
  const dir = path.join(tmp, 'mixed');
  fs.mkdirSync(dir);
  const bush = copySome('George_W_Bush', 14, dir);
  const powell = copySome('Colin_Powell', 4, dir);
  const r = await extractFaces(dir, path.join(tmp, 'mixed-faces'), { identity: 'dominant', progressStream: null });
  const a = readAlignments(r.alignments)!;
  const centreFace = (file: string) => {
    const img = a.images.find((i) => i.file === file)!;
    // The labelled person is the face nearest the centre of these 250x250 photos.
    return img.faces.sort((x, y) => Math.hypot(x.box.x + x.box.width / 2 - 125, x.box.y + x.box.height / 2 - 125) - Math.hypot(y.box.x + y.box.width / 2 - 125, y.box.y + y.box.height / 2 - 125))[0];
  };
  const bushKept = bush.filter((f) => centreFace(f) && !centreFace(f).rejected).length;
  const powellRejected = powell.filter((f) => centreFace(f)?.rejected === 'not the person').length;
  assert.ok(bushKept >= 12, `${bushKept} of 14 Bush photos kept`);
  assert.equal(powellRejected, 4, 'every Powell face rejected as not the person');
  assert.ok(fs.existsSync(path.join(tmp, 'mixed-faces', 'rejected', 'not-the-person')), 'rejected crops are kept apart for inspection');
  assert.equal(r.identity?.mode, 'dominant');
  // With a reference photo of Powell the roles swap.
  const ref = path.join(sharedPath('data/lfw-pair')!, 'Colin_Powell', 'Colin_Powell_0010.jpg');
  const byRef = await extractFaces(dir, path.join(tmp, 'mixed-ref'), { identity: ref, progressStream: null });
  const b = readAlignments(byRef.alignments)!;
  const keptFiles = new Set(b.images.filter((i) => i.faces.some((f) => !f.rejected)).map((i) => i.file));
  assert.equal(powell.filter((f) => keptFiles.has(f)).length, 4, 'all Powell photos kept by the reference');
  assert.ok(bush.filter((f) => keptFiles.has(f)).length <= 1, 'Bush photos rejected by the reference');
});

test('CLI extract: the JSON contract, and usage errors exit 2', { timeout: 300_000 }, () => {
  const out = path.join(tmp, 'cli');
  const r = runCli(['extract', '--in', demoDir, '--out', out, '--size', '64', '--json'], {}, 300_000);
  assert.equal(r.status, 0, r.stderr);
  const j = r.json as { images: number; faces: number; written: number; skipped: Record<string, number>; alignments: string };
  assert.deepEqual([j.images, j.faces, j.written], [6, 22, 22]);
  assert.deepEqual(j.skipped, {});
  assert.equal(j.alignments, path.join(out, 'alignments.json'));
  assert.match(r.stderr, /extract .*6\/6/, 'progress with a count on stderr');
  for (const args of [['extract', '--out', out], ['extract', '--in', path.join(tmp, 'nope'), '--out', out], ['extract', '--in', demoDir, '--out', out, '--detector', 'yolo'], ['extract', '--in', demoDir, '--out', out, '--size', 'big']]) {
    const bad = runCli(args);
    assert.equal(bad.status, 2, args.join(' '));
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  }
});
