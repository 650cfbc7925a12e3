// The `swap` command end to end: a tiny model trained for a few steps (on synthetic faces, and on
// real LFW faces of Bush and Powell when ../shared is there), real photos in, labelled images out.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../../lib/engine/backend';
import { createDetector, extractFaces } from '../../lib/faces/extract';
import type { Point } from '../../lib/faces/types';
import { decodeImage } from '../../lib/util/image';
import { presetConfig } from '../../lib/model/config';
import { DEFAULT_SWAP_MASK } from '../../lib/swap/blend-mask';
import { provenanceLabel, readProvenance } from '../../lib/swap/provenance';
import { TrainingSession } from '../../lib/train/session';
import { runCli } from '../helpers/cli';
import { dilatedHull } from '../helpers/hull';
import { sharedPath, skipWithoutShared } from '../helpers/shared';
import { syntheticFaces } from '../train-fixtures';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deepfake-lab-swap-'));
const photos = path.join(tmp, 'photos');
let synthetic: string;

/** Train a tiny model (32 px, mask channel, crop fraction 0.75) for two steps and save it. */
async function trainTiny(a: string, b: string, modelDir: string): Promise<void> {
  const s = await TrainingSession.open({
    modelDir,
    data: { a, b },
    config: presetConfig('tiny', { mask: true }),
    settings: { batchSize: 2, holdout: 0, cropFraction: 0.75 },
  });
  await s.trainStep();
  await s.trainStep();
  await s.saveCheckpoint();
  s.dispose();
}

before(async () => {
  await initBackend();
  fs.mkdirSync(photos);
  for (const i of [2]) fs.copyFileSync(require.resolve(`@vladmandic/face-api/demo/sample${i}.jpg`), path.join(photos, `sample${i}.jpg`));
  const faces = await syntheticFaces(4, 32);
  synthetic = faces.model;
  await trainTiny(faces.a, faces.b, synthetic);
});

test('CLI swap: the JSON contract, labelled outputs, inputs untouched', { timeout: 120_000 }, async () => {
  const out = path.join(tmp, 'out');
  const before = fs.readdirSync(photos).map((f) => fs.readFileSync(path.join(photos, f)));
  const r = runCli(['swap', '--model', synthetic, '--to', 'b', '--in', photos, '--out', out, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const j = r.json as { images: number; faces: number; swapped: number; skipped: Record<string, number>; out: string; files: string[] };
  assert.equal(j.images, 1);
  assert.equal(j.faces, 3, 'three people in the demo photo');
  assert.equal(j.swapped, 3);
  assert.deepEqual(j.skipped, {});
  assert.equal(j.out, out);
  assert.deepEqual(j.files, ['sample2.png']);
  assert.match(r.stderr, /swap .*1\/1/, 'progress on stderr');
  for (const f of j.files) {
    const p = await readProvenance(fs.readFileSync(path.join(out, f)));
    assert.equal(p.exif, provenanceLabel(), `${f}: EXIF label`);
    assert.equal(p.xmp, provenanceLabel(), `${f}: XMP label`);
    assert.equal(p.pngText, provenanceLabel(), `${f}: PNG text label`);
  }
  assert.deepEqual(fs.readdirSync(photos).map((f) => fs.readFileSync(path.join(photos, f))), before, 'inputs unchanged');
  assert.ok(!fs.readdirSync(out).some((f) => f.endsWith('.tmp')));
  // JPEG output with a visible mark, one file in, only a single face option.
  const jpeg = runCli(['swap', '--model', synthetic, '--to', 'a', '--in', path.join(photos, 'sample2.jpg'), '--out', path.join(tmp, 'jpeg'), '--format', 'jpeg', '--mark', '--colour', 'histogram', '--blend', 'poisson', '--json']);
  assert.equal(jpeg.status, 0, jpeg.stderr);
  assert.deepEqual((jpeg.json as { files: string[] }).files, ['sample2.jpg']);
  assert.equal((await readProvenance(fs.readFileSync(path.join(tmp, 'jpeg', 'sample2.jpg')))).exif, provenanceLabel());
});

test('a truncated weights file in the newest checkpoint: swap, eval and a resumed train use the one before, naming the file', { timeout: 240_000 }, async () => {
  const d = await syntheticFaces(4, 32);
  const train = (steps: string) => runCli(['train', '--a', d.a, '--b', d.b, '--model', d.model, '--preset', 'tiny', '--size', '32', '--batch', '2', '--steps', steps, '--preview-every', '0', '--json']);
  assert.equal(train('2').status, 0);
  assert.equal(train('4').status, 0);
  const newest = path.join(d.model, 'checkpoints', 'step-00000004');
  // As `truncate -s 100` leaves it: the first conv kernel's Adam moments cut short.
  const damaged = path.join(newest, 'optimizer_a.bin');
  fs.truncateSync(damaged, 100);
  const named = (stderr: string) => stderr.split('\n').filter((l) => l.includes(damaged));

  const r = runCli(['swap', '--model', d.model, '--to', 'b', '--in', photos, '--out', path.join(d.root, 'out'), '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(named(r.stderr).length, 1, r.stderr);
  assert.match((r.json as { model: { checkpoint: string } }).model.checkpoint, /step-00000002$/);

  const e = runCli(['eval', '--model', d.model, '--a', d.a, '--b', d.b, '--max-faces', '2', '--json']);
  assert.equal(e.status, 0, e.stderr);
  assert.equal(named(e.stderr).length, 1, e.stderr);
  assert.match(String(e.json?.checkpoint), /step-00000002$/);

  const t = train('3');
  assert.equal(t.status, 0, t.stderr);
  assert.equal(named(t.stderr).length, 1, t.stderr);
  assert.match(String(t.json?.resumedFrom), /step-00000002$/);
  // The damaged one is gone; the two newest good ones stay.
  assert.deepEqual(fs.readdirSync(path.join(d.model, 'checkpoints')).sort(), ['step-00000002', 'step-00000003']);

  // None usable: exit 2, one line naming the damaged file and what to do.
  for (const step of ['step-00000002', 'step-00000003']) fs.truncateSync(path.join(d.model, 'checkpoints', step, 'encoder', 'weights.bin'), 100);
  const none = runCli(['swap', '--model', d.model, '--to', 'b', '--in', photos, '--out', path.join(d.root, 'out2')]);
  assert.equal(none.status, 2, none.stderr);
  const last = none.stderr.trim().split('\n').filter((l) => !l.startsWith('swap: '));
  assert.equal(last.length, 1, none.stderr);
  assert.match(last[0], /step-00000002.encoder.weights\.bin: .*delete .*checkpoints/);
});

test('CLI swap: bad usage and unusable input exit 2 with one line', () => {
  const empty = fs.mkdtempSync(path.join(tmp, 'empty-model-'));
  // Each case starts a process (seconds): one per kind of refusal.
  const cases = [
    ['swap', '--to', 'b', '--in', photos, '--out', tmp],
    ['swap', '--model', synthetic, '--in', photos, '--out', tmp],
    ['swap', '--model', synthetic, '--to', 'c', '--in', photos, '--out', tmp],
    ['swap', '--model', empty, '--to', 'b', '--in', photos, '--out', tmp],
    ['swap', '--model', synthetic, '--to', 'b', '--in', photos, '--out', tmp, '--colour', 'sepia'],
    ['swap', '--model', synthetic, '--to', 'b', '--in', photos, '--out', tmp, '--sharpen', '-1'],
    ['swap', '--model', synthetic, '--to', 'b', '--in', photos, '--out', tmp, '--light', '1.5'],
  ];
  for (const args of cases) {
    const r = runCli([...args, '--json']);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('CLI swap rerun: two photos with the same name stem keep their own outputs', { skip: skipWithoutShared('data/bad-inputs'), timeout: 120_000 }, () => {
  const bad = sharedPath('data/bad-inputs')!;
  const input = path.join(tmp, 'same-stem'), out = path.join(tmp, 'same-stem-out');
  fs.mkdirSync(input);
  fs.copyFileSync(path.join(bad, 'cmyk.jpg'), path.join(input, 'p.jpg'));
  fs.copyFileSync(path.join(bad, 'photo.webp'), path.join(input, 'p.webp'));
  const args = ['swap', '--model', synthetic, '--to', 'b', '--in', input, '--out', out, '--json'];
  const first = runCli(args);
  assert.equal(first.status, 0, first.stderr);
  assert.deepEqual(fs.readdirSync(out).sort(), ['p-swapped.png', 'p.png']);
  // The second photo's output is lost: a rerun redoes that one only, under the same name.
  fs.rmSync(path.join(out, 'p-swapped.png'));
  const again = runCli(args);
  assert.equal(again.status, 0, again.stderr);
  const j = again.json as { swapped: number; files: string[]; skipped: Record<string, number> };
  assert.equal(j.skipped['already swapped'], 1);
  assert.deepEqual(j.files, ['p-swapped.png']);
  assert.deepEqual(fs.readdirSync(out).sort(), ['p-swapped.png', 'p.png']);
});

test('CLI swap: bad inputs are skipped by reason, the portraits are swapped', { skip: skipWithoutShared('data/bad-inputs'), timeout: 120_000 }, () => {
  const r = runCli(['swap', '--model', synthetic, '--to', 'b', '--in', sharedPath('data/bad-inputs')!, '--out', path.join(tmp, 'bad'), '--json']);
  assert.equal(r.status, 0, r.stderr);
  const j = r.json as { images: number; swapped: number; skipped: Record<string, number>; files: string[] };
  assert.equal(j.images, 16);
  for (const reason of ['empty file', 'corrupt', 'too many pixels', 'svg is not a photo input', 'too small', 'no face']) assert.ok(j.skipped[reason] >= 1, `${reason}: ${JSON.stringify(j.skipped)}`);
  assert.equal(j.skipped['not an image'], 2, 'the text file and the HTML page');
  assert.equal(j.swapped, 8, 'the eight encodings of the portrait');
  assert.equal(j.files.length, 8);
});

test('Bush -> Powell with a model trained on lfw-pair: the face changes, the rest is bit-identical', { skip: skipWithoutShared('data/lfw-pair'), timeout: 240_000 }, async () => {
  const lfw = sharedPath('data/lfw-pair')!;
  const pick = (person: string, from: number, n: number) => fs.readdirSync(path.join(lfw, person)).filter((f) => f.endsWith('.jpg')).sort().slice(from, from + n);
  const dirs: Record<string, string> = {};
  for (const person of ['George_W_Bush', 'Colin_Powell']) {
    const raw = path.join(tmp, 'lfw', person);
    fs.mkdirSync(raw, { recursive: true });
    for (const f of pick(person, 0, 4)) fs.copyFileSync(path.join(lfw, person, f), path.join(raw, f));
    dirs[person] = path.join(tmp, 'lfw', `${person}-faces`);
    await extractFaces(raw, dirs[person], { size: 128, progressStream: null });
  }
  const model = path.join(tmp, 'lfw-model');
  await trainTiny(dirs.George_W_Bush, dirs.Colin_Powell, model);
  const input = path.join(tmp, 'lfw', 'bush-new');
  fs.mkdirSync(input);
  for (const f of pick('George_W_Bush', 10, 3)) fs.copyFileSync(path.join(lfw, 'George_W_Bush', f), path.join(input, f));
  const out = path.join(tmp, 'lfw', 'swapped');
  const args = ['swap', '--model', model, '--to', 'b', '--in', input, '--out', out, '--faces', 'source', '--json'];
  const r = runCli([...args, '--measure']);
  assert.equal(r.status, 0, r.stderr);
  const j = r.json as { swapped: number; files: string[]; measured: { faces: number; decoded: Record<string, number>; final: Record<string, number> } };
  assert.ok(j.swapped >= 3, `Bush swapped in each photo: ${r.stdout}`);
  // --measure scores the same faces before and after post-processing.
  assert.equal(j.measured.faces, j.swapped);
  for (const stage of [j.measured.decoded, j.measured.final]) {
    assert.ok(stage.identityTransfer! >= 0 && stage.identityTransfer! <= 1, JSON.stringify(j.measured));
    assert.ok(Number.isFinite(stage.landmarkError) && stage.landmarkError! >= 0, JSON.stringify(j.measured));
  }
  // This tiny model decodes mush (its landmarks land anywhere), but the finished photo keeps the
  // source's face geometry: the blend is only a feathered patch over the same head.
  assert.ok(j.measured.final.landmarkError! < 0.5, JSON.stringify(j.measured));
  // A rerun skips the photos already swapped and leaves their files alone.
  const written = fs.readdirSync(out).map((f) => fs.readFileSync(path.join(out, f)));
  const again = runCli(args);
  assert.equal(again.status, 0, again.stderr);
  const k = again.json as { swapped: number; files: string[]; skipped: Record<string, number> };
  assert.equal(k.swapped, 0);
  assert.deepEqual(k.files, []);
  assert.equal(k.skipped['already swapped'], fs.readdirSync(input).length);
  assert.deepEqual(fs.readdirSync(out).map((f) => fs.readFileSync(path.join(out, f))), written);
  const detector = await createDetector();
  for (const f of fs.readdirSync(input)) {
    const src = await decodeImage(path.join(input, f));
    const dst = await decodeImage(path.join(out, f.replace(/\.jpg$/, '.png')));
    const faces = (await detector.detect(src)).filter((d) => d.score >= 0.5 && d.box.width >= 40);
    // Crop pixels -> photo pixels: the template spans 0.6 of a 128 px crop; the feather reaches 1.5 feathers.
    const inside = new Uint8Array(src.width * src.height);
    let changed = 0;
    for (const d of faces) {
      const span = Math.hypot(d.landmarks[16][0] - d.landmarks[0][0], d.landmarks[16][1] - d.landmarks[0][1]);
      const hull = dilatedHull(d.landmarks, DEFAULT_SWAP_MASK.forehead, 1.5 * DEFAULT_SWAP_MASK.feather * (span / (0.6 * 128)) + 3, src.width, src.height);
      hull.forEach((v, i) => (inside[i] |= v));
    }
    for (let i = 0; i < inside.length; i++) {
      const same = src.data[i * 3] === dst.data[i * 3] && src.data[i * 3 + 1] === dst.data[i * 3 + 1] && src.data[i * 3 + 2] === dst.data[i * 3 + 2];
      if (!inside[i]) assert.ok(same, `${f}: pixel ${i % src.width},${Math.floor(i / src.width)} changed outside the dilated mask`);
      else if (!same) changed++;
    }
    assert.ok(changed > 1000, `${f}: the face region changed (${changed} pixels)`);
  }
});
