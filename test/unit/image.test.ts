// lib/util/image.ts on every file of ../shared/data/bad-inputs, against that folder's README.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../helpers/rng';
import { cutBox, decodeImage, encodeImage, imageToTensor, listImageFiles, pixelBox, sniffFormat, tensorToImage, tryDecodeImage, type RgbImage } from '../../lib/util/image';
import { growBox, landmarkBox } from '../../lib/faces/types';
import { sharedPath, skipWithoutShared } from '../helpers/shared';

const BAD = 'data/bad-inputs';
const skip = skipWithoutShared(BAD);
const file = (name: string) => path.join(sharedPath(BAD) ?? '', name);
// Several files are the same 250x250 portrait saved in other ways; this one is a plain JPEG.
const REFERENCE = 'Upper Case Ünïcode name.JPG';

function meanAbsDiff(a: RgbImage, b: RgbImage): number {
  assert.equal(a.data.length, b.data.length);
  let d = 0;
  for (let i = 0; i < a.data.length; i++) d += Math.abs(a.data[i] - b.data[i]);
  return d / a.data.length;
}

test('the folder listing ignores hidden files and non-image names', { skip }, async () => {
  const { files, ignored } = await listImageFiles(sharedPath(BAD)!);
  const why = Object.fromEntries(ignored.map((i) => [path.basename(i.file), i.reason]));
  assert.equal(why['.hiddenTag'], 'hidden file');
  assert.equal(why['README.md'], 'not an image file name');
  assert.ok(files.some((f) => path.basename(f) === REFERENCE), 'a non-ASCII, upper-case .JPG name is listed');
  assert.ok(!files.some((f) => path.basename(f).startsWith('.')));
});

const refusals: Array<[string, string]> = [
  ['empty.jpg', 'empty file'],
  ['truncated.jpg', 'corrupt'],
  ['text-named.jpg', 'not an image'],
  ['html-error-page.jpg', 'not an image'],
  ['decompression-bomb.png', 'too many pixels'],
  ['external-ref.svg', 'svg is not a photo input'],
  ['tiny-8px.jpg', 'too small'],
];
for (const [name, reason] of refusals) {
  test(`${name} is refused as "${reason}"`, { skip }, async () => {
    const r = await tryDecodeImage(file(name));
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.reason, reason);
      assert.ok(r.detail.length > 0 && !r.detail.includes('\n'), 'a one-line detail');
    }
  });
}

test('the decompression bomb is refused from its header, without decoding 867 MB', { skip }, async () => {
  const before = process.memoryUsage().rss;
  const r = await tryDecodeImage(file('decompression-bomb.png'));
  assert.equal(r.ok, false);
  assert.ok(process.memoryUsage().rss - before < 200 * 1024 * 1024, 'resident memory stayed low');
});

// Same portrait as REFERENCE in another container or colour model: must decode to nearly the same
// pixels. A wrong CMYK conversion, an ignored EXIF rotation or a 16-bit misread gives a mean
// difference of 30 or more; re-encoding noise is about 2 to 6.
const sameAsReference: Array<[string, string | null]> = [
  ['cmyk.jpg', 'converted from cmyk'],
  ['exif-rotated.jpg', 'EXIF orientation 6 applied'],
  ['sixteen-bit.png', 'reduced from ushort to 8 bits'],
  ['photo.webp', null],
  ['with-alpha.png', 'alpha dropped'],
];
for (const [name, note] of sameAsReference) {
  test(`${name} decodes to the right RGB pixels`, { skip }, async () => {
    const ref = await decodeImage(file(REFERENCE));
    const img = await decodeImage(file(name));
    assert.equal(img.width, 250);
    assert.equal(img.height, 250);
    assert.equal(img.data.length, 250 * 250 * 3);
    const d = meanAbsDiff(img, ref);
    assert.ok(d < 8, `mean difference to the plain JPEG is ${d.toFixed(1)}`);
    if (note) assert.ok(img.notes.includes(note), `notes ${JSON.stringify(img.notes)} include "${note}"`);
  });
}

test('exif-rotated.jpg would be sideways without its EXIF orientation', { skip }, async () => {
  const sharp = (await import('sharp')).default;
  const raw = await sharp(file('exif-rotated.jpg')).removeAlpha().raw().toBuffer();
  const ref = await decodeImage(file(REFERENCE));
  assert.ok(meanAbsDiff({ data: raw, width: 250, height: 250 }, ref) > 20, 'stored pixels differ from the upright photo');
});

test('grayscale.png decodes to three equal channels', { skip }, async () => {
  const img = await decodeImage(file('grayscale.png'));
  for (let i = 0; i < img.data.length; i += 3) {
    assert.ok(img.data[i] === img.data[i + 1] && img.data[i] === img.data[i + 2], `pixel ${i / 3} is grey`);
  }
  const ref = await decodeImage(file(REFERENCE));
  let d = 0;
  for (let i = 0; i < img.data.length; i += 3) d += Math.abs(img.data[i] - (0.299 * ref.data[i] + 0.587 * ref.data[i + 1] + 0.114 * ref.data[i + 2]));
  assert.ok(d / (img.data.length / 3) < 5, 'it is the grey version of the same photo');
});

test('animated.gif decodes its first frame', { skip }, async () => {
  const img = await decodeImage(file('animated.gif'));
  assert.equal(img.format, 'gif');
  assert.equal(img.width, 200);
  assert.ok(img.notes.includes('first of 2 frames'));
});

test('no-face.jpg and the unicode name decode like any JPEG', { skip }, async () => {
  const a = await decodeImage(file('no-face.jpg'));
  assert.deepEqual([a.width, a.height, a.format], [640, 480, 'jpeg']);
  const b = await decodeImage(file(REFERENCE));
  assert.deepEqual([b.width, b.height, b.format], [250, 250, 'jpeg']);
});

test('every bad input ends decoded or refused, never thrown', { skip }, async () => {
  const { files } = await listImageFiles(sharedPath(BAD)!);
  const outcomes = await Promise.all(files.map((f) => tryDecodeImage(f)));
  assert.equal(outcomes.length, files.length);
  assert.equal(outcomes.filter((o) => o.ok).length, 9, 'nine real photos decode');
});

test('the format is sniffed from bytes, not from the name', () => {
  assert.equal(sniffFormat(Buffer.from([0xff, 0xd8, 0xff, 0xe0])), 'jpeg');
  assert.equal(sniffFormat(Buffer.from('\x89PNG\r\n\x1a\n', 'latin1')), 'png');
  assert.equal(sniffFormat(Buffer.from('<!doctype html><p>429')), 'text');
  assert.equal(sniffFormat(Buffer.from('<?xml version="1.0"?><svg></svg>')), 'svg');
  assert.equal(sniffFormat(Buffer.from([0, 1, 2, 3, 0, 0, 0, 0])), null);
});

test('image -> tensor -> PNG -> image round trip keeps every pixel', async () => {
  const w = 40, h = 33;
  const img: RgbImage = { width: w, height: h, data: Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37) % 256) };
  const tensorsBefore = tf.memory().numTensors;
  const t = imageToTensor(img);
  assert.deepEqual(t.shape, [h, w, 3]);
  assert.ok(tf.tidy(() => t.max().dataSync()[0]) <= 1);
  const back = await tensorToImage(t);
  t.dispose();
  assert.deepEqual(back.data, img.data);
  const decoded = await decodeImage(await encodeImage(back, 'png'));
  assert.deepEqual(decoded.data, img.data);
  assert.equal(tf.memory().numTensors, tensorsBefore, 'no tensor left behind');
});

test('tensorToImage equals clipByValue(0, 1), times 255, round (halves to even) and toInt, for RGB and one channel, out-of-range values and NaN included, and reads 0-255 tensors alike', async () => {
  const special = [-1, 0, 1, 2, NaN, 0.5 / 255, 1.5 / 255, 2.5 / 255, 254.5 / 255, 0.1, 0.9999, 1e-8];
  const rand = mulberry32(5);
  const n = 7 * 5;
  const values = Float32Array.from({ length: n * 3 }, (_, i) => (i < special.length ? special[i]! : rand() * 1.2 - 0.1));
  for (const channels of [3, 1]) {
    const t = tf.tensor3d(values.slice(0, n * channels), [7, 5, channels]);
    const want = tf.tidy(() => {
      const scaled = t.clipByValue(0, 1).mul(255).round().toInt();
      return channels === 1 ? tf.tile(scaled, [1, 1, 3]) : scaled;
    });
    const got = await tensorToImage(t);
    assert.deepEqual(Array.from(got.data), Array.from(want.dataSync()), `${channels} channel(s)`);
    // The same pixels held as 0-255: the same bytes, halves and NaN included.
    const t255 = tf.tidy(() => t.mul(255) as tf.Tensor3D);
    assert.deepEqual(Array.from((await tensorToImage(t255, 255)).data), Array.from(want.dataSync()), `${channels} channel(s), range 255`);
    t255.dispose();
    assert.equal(got.width, 5);
    assert.equal(got.height, 7);
    tf.dispose([t, want]);
  }
});

test('cutBox: the box rounded outwards, clipped to the image, the pixels in order', () => {
  // 5x4, each pixel's red channel is its index, so every cut pixel names where it came from.
  const img: RgbImage = { width: 5, height: 4, data: Uint8Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? i / 3 : 0)) };
  const reds = (c: RgbImage) => Array.from({ length: c.width * c.height }, (_, i) => c.data[i * 3]);
  const inner = cutBox(img, { x: 1.5, y: 0.2, width: 2, height: 1.5 }); // x 1..4 (3.5 rounds up), y 0..2
  assert.deepEqual([inner.width, inner.height], [3, 2]);
  assert.deepEqual(reds(inner), [1, 2, 3, 6, 7, 8]);
  const over = cutBox(img, growBox({ x: 3, y: 2, width: 2, height: 2 }, 0.5)); // 2..6 x 1..5, clipped
  assert.deepEqual([over.width, over.height], [3, 3]);
  assert.deepEqual(reds(over), [7, 8, 9, 12, 13, 14, 17, 18, 19]);
  const outside = pixelBox({ x: 9, y: -4, width: 1, height: 1 }, 5, 4);
  assert.deepEqual(outside, { x: 4, y: 0, width: 1, height: 1 }, 'a box off the image still cuts one pixel');
  assert.deepEqual(landmarkBox([[2, 7], [5, 1], [3, 3]]), { x: 2, y: 1, width: 3, height: 6 });
});
