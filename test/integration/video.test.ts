// Video: the built-in clip (`samples --video`), swapping a clip through ffmpeg with tracking,
// smoothing, sound and the label, resuming after SIGKILL, the temporal metrics, and every kind of
// bad video file. Clips are made here with ffmpeg and the rig; the model is a tiny one trained for
// two steps (the pipeline is under test, not the picture).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { createDetector } from '../../lib/faces/extract';
import type { Point } from '../../lib/faces/types';
import { presetConfig } from '../../lib/model/config';
import { jitterSeries, landmarkJitter } from '../../lib/metrics/temporal';
import { readClipRecord } from '../../lib/samples/clip';
import { loadSwapModel } from '../../lib/swap/model';
import { provenanceLabel } from '../../lib/swap/provenance';
import { TrainingSession } from '../../lib/train/session';
import { probeOutput, probeVideo, readFrames, VideoRefused } from '../../lib/util/ffmpeg';
import { smoothLandmarks } from '../../lib/video/smooth';
import { swapVideo } from '../../lib/video/swap-video';
import { alignedCrop, measureVideo } from '../../lib/video/temporal-scores';
import { trackFaces, type FrameFace } from '../../lib/video/track';
import { analyseFrames } from '../../lib/video/analyse';
import { playVideos } from '../helpers/browser';
import { runCli, startCli } from '../helpers/cli';
import { mulberry32 } from '../helpers/rng';
import { PROJECT_ROOT } from '../helpers/shared';
import { syntheticFaces } from '../train-fixtures';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deepfake-lab-video-'));
let model: string;
/** Frames of the built-in clip made here (1.2 s at 25 fps). */
const FRAMES = 30;
let clip: { a: string; truth: string };
/** 10 frames without a face, then 20 of the built-in clip, with a 440 Hz tone. */
let mixed: string;

function ffmpeg(...args: string[]): void {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-nostdin', '-y', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `ffmpeg ${args.join(' ')}: ${r.stderr}`);
}

/** Every decoded frame of a clip as RGB bytes. */
async function frames(file: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const f of readFrames(await probeVideo(file))) out.push(Uint8Array.from(f.data));
  return out;
}

function psnr(a: Uint8Array, b: Uint8Array): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i]! - b[i]!) ** 2;
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255 * a.length) / se);
}

before(async () => {
  await initBackend();
  const faces = await syntheticFaces(4, 32);
  model = faces.model;
  const s = await TrainingSession.open({ modelDir: model, data: { a: faces.a, b: faces.b }, config: presetConfig('tiny', { mask: true }), settings: { batchSize: 2, holdout: 0, cropFraction: 0.75 } });
  await s.trainStep();
  await s.trainStep();
  await s.saveCheckpoint();
  s.dispose();
  // The built-in clip, through the CLI as a user makes it: 1.2 s, 30 frames.
  const r = runCli(['samples', '--out', path.join(tmp, 'samples'), '--count', '0', '--pairs', '0', '--video', '--seconds', '1.2', '--json']);
  assert.equal(r.status, 0, r.stderr);
  clip = (r.json as { video: { a: string; truth: string } }).video;
  mixed = path.join(tmp, 'mixed.mp4');
  ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=512x640:rate=25:duration=0.4', '-i', clip.a, '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1.2',
    '-filter_complex', '[0:v]setsar=1,format=yuv420p[n];[1:v]setsar=1,format=yuv420p[f];[n][f]concat=n=2:v=1:a=0[v]', '-map', '[v]', '-map', '2:a', '-frames:v', '30',
    '-c:v', 'libx264', '-crf', '12', '-c:a', 'aac', mixed);
}, { timeout: 180_000 });

test('samples --video: A and the ground truth as clips of the same motion, with every frame\'s true landmarks', async () => {
  for (const f of [clip.a, clip.truth]) {
    const p = await probeOutput(f);
    assert.deepEqual([p.frames, p.rate, p.width, p.height], [FRAMES, '25/1', 512, 640], f);
  }
  assert.equal((await probeOutput(clip.a)).audio, true, 'A carries the hum that follows the mouth');
  const record = readClipRecord(path.dirname(clip.a))!;
  assert.equal(record.landmarks.a.length, FRAMES);
  assert.equal(record.landmarks.b.length, FRAMES);
  // The same parameters for both people, and they change smoothly: the head really turns.
  const yaw = record.params.map((p) => p.yaw);
  assert.ok(Math.max(...yaw) - Math.min(...yaw) > 15, `the head turns (${Math.min(...yaw)} to ${Math.max(...yaw)} degrees)`);
  assert.ok(record.params.some((p) => p.eyeClose > 0.9), 'a blink');
  // The true landmarks move without noise: their own acceleration is small next to detection noise (0.02-0.03).
  assert.ok(landmarkJitter(record.landmarks.a) < 0.01, `true landmark acceleration ${landmarkJitter(record.landmarks.a)}`);
  // A rerun finds the clip and renders nothing.
  const again = runCli(['samples', '--out', path.join(tmp, 'samples'), '--count', '0', '--pairs', '0', '--video', '--seconds', '1.2', '--json']);
  assert.equal((again.json as { video: { rendered: boolean } }).video.rendered, false);
});

test('tracking keeps two faces apart when they cross', () => {
  const rand = mulberry32(3);
  const person = (k: number) => Array.from({ length: 128 }, (_, i) => (i % 2 === k ? 0.09 : -0.09));
  const noisy = (d: number[]) => d.map((v) => v + (rand() - 0.5) * 0.02);
  const landmarks: Point[] = Array.from({ length: 68 }, () => [0, 0]);
  // Left to right and right to left, boxes fully overlapping in the middle frames.
  const frames: FrameFace[][] = Array.from({ length: 21 }, (_, t) => {
    const x0 = 20 + t * 10, x1 = 220 - t * 10;
    const faces: FrameFace[] = [
      { box: { x: x0, y: 50, width: 60, height: 60 }, score: 0.9, landmarks, descriptor: noisy(person(0)) },
      { box: { x: x1, y: 52, width: 60, height: 60 }, score: 0.9, landmarks, descriptor: noisy(person(1)) },
    ];
    return t % 2 ? faces.reverse() : faces; // detection order says nothing
  });
  const tracks = trackFaces(frames);
  assert.equal(tracks.length, 2, 'two people, two tracks');
  for (const track of tracks) {
    assert.equal(track.faces.size, 21, `track ${track.id} sees its face in every frame`);
    const starts = track.faces.get(0)!.box.x;
    // Each track follows one person straight through: x moves the same way all along.
    const xs = [...track.faces.entries()].sort((p, q) => p[0] - q[0]).map(([, f]) => f.box.x);
    const dir = Math.sign(xs[1]! - xs[0]!);
    assert.ok(xs.every((x, i) => i === 0 || Math.sign(x - xs[i - 1]!) === dir), `track starting at x=${starts} turns back at the crossing: ${xs.join(' ')}`);
  }
});

test('tracking follows two real faces through a crossing, one passing in front of the other', { timeout: 180_000 }, async (ctx) => {
  // A moves right and B (the truth clip) moves left across a 768 px wide frame; B is drawn on top,
  // so in the middle frames A is hidden and the tracker must pick her up again on the far side.
  const crossing = path.join(tmp, 'crossing.mp4');
  ffmpeg('-f', 'lavfi', '-i', 'color=c=gray:size=768x320:rate=25:duration=1.2', '-i', clip.a, '-i', clip.truth,
    '-filter_complex', '[1:v]scale=256:320[a];[2:v]scale=256:320[b];[0:v][a]overlay=x=\'t/1.2*512\':y=0[t];[t][b]overlay=x=\'512-t/1.2*512\':y=0[v]',
    '-map', '[v]', '-frames:v', String(FRAMES), '-c:v', 'libx264', '-crf', '12', crossing);
  const detector = await createDetector('ssd', 0.5);
  const { frames: found } = await analyseFrames(await probeVideo(crossing), detector, { progressStream: null });
  const tracks = trackFaces(found).filter((t) => t.faces.size >= 5);
  ctx.diagnostic(`tracks: ${tracks.map((t) => `${t.id}: ${t.faces.size} frames`).join(', ')}; faces per frame ${found.map((f) => f.length).join('')}`);
  assert.equal(tracks.length, 2, 'two people, two tracks');
  const directions = tracks.map((t) => {
    const xs = [...t.faces.entries()].sort((p, q) => p[0] - q[0]).map(([, f]) => f.box.x + f.box.width / 2);
    // Each track keeps moving one way: no jump to the other person at the crossing.
    const steps = xs.slice(1).map((x, i) => x - xs[i]!);
    const dir = Math.sign(xs[xs.length - 1]! - xs[0]!);
    assert.ok(steps.every((d) => Math.sign(d) === dir || Math.abs(d) < 4), `track ${t.id} turns back: ${xs.map((x) => x.toFixed(0)).join(' ')}`);
    assert.ok(Math.abs(xs[xs.length - 1]! - xs[0]!) > 300, `track ${t.id} crosses the frame: ${xs[0]!.toFixed(0)} -> ${xs[xs.length - 1]!.toFixed(0)}`);
    return dir;
  });
  assert.deepEqual([...directions].sort(), [-1, 1], 'one goes right, the other left');
});

test('smoothing halves landmark jitter on a noisy track and leaves strength 0 untouched', () => {
  const rand = mulberry32(5);
  const truth: Point[][] = Array.from({ length: 50 }, (_, t) => Array.from({ length: 68 }, (_, k): Point => [100 + k + 30 * Math.sin(t / 8), 200 + (k % 7) * 5 + 10 * Math.cos(t / 11)]));
  // Eye centres (36-47) 60 px apart, as on a real face, so the jitter has a scale.
  for (const f of truth) for (let k = 36; k < 48; k++) f[k] = [f[k]![0] + (k < 42 ? 0 : 60), f[k]![1]];
  const noisy = truth.map((f) => f.map(([x, y]): Point => [x + (rand() - 0.5) * 3, y + (rand() - 0.5) * 3]));
  const idx = truth.map((_, i) => i);
  const smoothed = smoothLandmarks(idx, noisy, 25);
  const raw = landmarkJitter(noisy, truth), smooth = landmarkJitter(smoothed, truth);
  assert.ok(smooth < 0.5 * raw, `jitter ${raw.toFixed(4)} -> ${smooth.toFixed(4)}`);
  const err = (ls: Point[][]) => ls.reduce((s, f, t) => s + f.reduce((a, p, k) => a + Math.hypot(p[0] - truth[t]![k]![0], p[1] - truth[t]![k]![1]), 0) / 68, 0) / ls.length;
  assert.ok(err(smoothed) < err(noisy), `closer to the truth: ${err(noisy).toFixed(3)} -> ${err(smoothed).toFixed(3)} px`);
  assert.deepEqual(smoothLandmarks(idx, noisy, 25, { strength: 0 }), noisy);
  assert.equal(jitterSeries(noisy).length, 50);
});

test('swap --in a clip: source frame count, rate and sound, the label, frames without a face unchanged, plays in Chromium', { timeout: 300_000 }, async (ctx) => {
  const out = path.join(tmp, 'swapped');
  // --out relative to the working folder (the demo's case: ffmpeg's segment list once resolved it twice).
  const r = runCli(['swap', '--model', model, '--to', 'b', '--in', mixed, '--out', path.relative(PROJECT_ROOT, out), '--no-mark', '--measure', '--json'], {}, 300_000);
  assert.equal(r.status, 0, r.stderr);
  const j = r.json as { videos: number; frames: number; files: string[]; clips: Array<{ tracks: unknown[]; notes: string[]; facesSwapped: number; audio: boolean }>; temporal: { jitter: { raw: number; smoothed: number }; flicker: { raw: number; smoothed: number; reference: string }; truthPsnr: unknown } };
  assert.equal(j.videos, 1);
  assert.equal(j.frames, 30);
  assert.deepEqual(j.files, ['mixed.mp4']);
  assert.match(r.stderr, /video: swapping .*30\/30/, 'progress on stderr');
  assert.ok(j.clips[0]!.notes.some((n) => /10 of 30 frames without a face/.test(n)), j.clips[0]!.notes.join('; '));
  assert.equal(j.clips[0]!.facesSwapped, 20);
  const written = await probeOutput(path.join(out, 'mixed.mp4'));
  assert.deepEqual([written.frames, written.rate, written.audio], [30, '25/1', true], 'frames, rate and the tone kept');
  assert.equal(written.tags.comment, provenanceLabel());
  assert.match(written.tags.title!, /^SYNTHETIC/);
  const sidecar = JSON.parse(fs.readFileSync(path.join(out, 'mixed.provenance.json'), 'utf8'));
  assert.equal(sidecar.synthetic, true);
  assert.equal(sidecar.source.file, 'mixed.mp4');
  assert.equal(sidecar.model.decodedAs, 'b');
  assert.equal(sidecar.settings.smooth.strength, 0.5);
  assert.deepEqual(fs.readdirSync(out).sort(), ['mixed.mp4', 'mixed.provenance.json'], 'no work folder or temporary file left');
  // Frames without a face pass through: equal to the source within re-encoding error.
  const [src, dst] = [await frames(mixed), await frames(path.join(out, 'mixed.mp4'))];
  for (let i = 0; i < 10; i++) assert.ok(psnr(src[i]!, dst[i]!) >= 40, `frame ${i} without a face: ${psnr(src[i]!, dst[i]!).toFixed(1)} dB`);
  ctx.diagnostic(`frames without a face: ${Math.min(...src.slice(0, 10).map((f, i) => psnr(f, dst[i]!))).toFixed(2)} dB at worst against the source`);
  for (let i = 10; i < 30; i++) assert.ok(psnr(src[i]!, dst[i]!) < 38, `frame ${i} has its face swapped`);
  // --measure on a clip without ground truth: against the source.
  assert.ok(Number.isFinite(j.temporal.jitter.raw) && Number.isFinite(j.temporal.jitter.smoothed));
  assert.equal(j.temporal.flicker.reference, 'source');
  assert.equal(j.temporal.truthPsnr, null);
  // Chromium plays it.
  const page = path.join(out, '..', 'play.html');
  fs.writeFileSync(page, `<video src="${path.join(out, 'mixed.mp4')}" muted></video>`);
  const [state] = await playVideos(page);
  assert.equal(state!.error, null);
  assert.deepEqual([state!.width, state!.height], [512, 640]);
  assert.ok(state!.played > 0.1, `played to ${state!.played} s`);
  assert.ok(Math.abs(state!.duration - 1.2) < 0.1, `duration ${state!.duration}`);
});

test('a video swap keeps the tensor count flat and the visible mark is on by default', { timeout: 180_000 }, async () => {
  const m = await loadSwapModel(model);
  const detector = await createDetector('ssd', 0.5);
  const run = (out: string) => swapVideo(m, mixed, path.join(tmp, out), { to: 'b', detector, segmentFrames: 16, progressStream: null });
  await run('flat-1');
  const before = tf.memory().numTensors;
  const r = await run('flat-2');
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind by 30 frames');
  m.dispose();
  assert.equal(r.frames, 30);
  // The mark: the bottom-right corner of a frame without a face is no longer the source's.
  const [src, dst] = [(await frames(mixed))[0]!, (await frames(r.out!))[0]!];
  const corner = (img: Uint8Array) => img.slice(3 * (512 * 630 + 400), 3 * (512 * 630 + 500));
  assert.ok(psnr(corner(src), corner(dst)) < 25, 'the corner carries the SYNTHETIC mark');
});

test('swap resumes after SIGKILL with no frame lost or doubled', { timeout: 400_000 }, async () => {
  const args = (out: string) => ['swap', '--model', model, '--to', 'b', '--in', clip.a, '--out', out, '--segment', '8', '--json'];
  const whole = runCli(args(path.join(tmp, 'whole')), {}, 300_000);
  assert.equal(whole.status, 0, whole.stderr);
  const out = path.join(tmp, 'killed');
  const run = startCli(args(out));
  const work = path.join(out, '.a.work');
  // Kill it once the first segments are encoded, mid-clip.
  const deadline = Date.now() + 240_000;
  while (!fs.existsSync(path.join(work, 'seg-00001.mp4')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  run.child.kill('SIGKILL');
  await run.done;
  assert.ok(!fs.existsSync(path.join(out, 'a.mp4')), 'killed before the end');
  const again = runCli(args(out), {}, 300_000);
  assert.equal(again.status, 0, again.stderr);
  const c = (again.json as { clips: Array<{ resumed: { frames: number; segments: number }; frames: number }> }).clips[0]!;
  assert.equal(c.resumed.frames, FRAMES, 'the faces of every frame reused');
  assert.ok(c.resumed.segments >= 2 && c.resumed.segments < 4, `segments reused: ${c.resumed.segments} of 4`);
  const md5 = (f: string) => spawnSync('ffmpeg', ['-v', 'error', '-i', f, '-map', '0:v', '-f', 'framemd5', '-'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => !l.startsWith('#'));
  const [a, b] = [md5(path.join(tmp, 'whole', 'a.mp4')), md5(path.join(out, 'a.mp4'))];
  assert.equal(b.length, a.length);
  assert.deepEqual(b, a, 'the resumed video has exactly the frames of an uninterrupted run');
  assert.equal((await probeOutput(path.join(out, 'a.mp4'))).frames, FRAMES);
  assert.ok(!fs.existsSync(work), 'the work folder is gone');
});

test('eval --video on the built-in clip: the temporal metrics against the true landmarks and the truth clip', { timeout: 300_000 }, (ctx) => {
  const r = runCli(['eval', '--model', model, '--video', clip.a, '--truth', clip.truth, '--json'], {}, 300_000);
  assert.equal(r.status, 0, r.stderr);
  const t = (r.json as { temporal: { frames: number; jitter: { raw: number; smoothed: number; reduction: number; againstTruth: boolean }; flicker: { raw: number; smoothed: number; reference: string }; truthPsnr: { raw: number; smoothed: number; perFrame: { raw: number[]; smoothed: number[] } } } }).temporal;
  ctx.diagnostic(`jitter ${t.jitter.raw.toFixed(4)} -> ${t.jitter.smoothed.toFixed(4)}; flicker ${t.flicker.raw.toFixed(2)} -> ${t.flicker.smoothed.toFixed(2)}; truth PSNR ${t.truthPsnr.raw.toFixed(2)} -> ${t.truthPsnr.smoothed.toFixed(2)} dB`);
  assert.equal(t.frames, FRAMES);
  assert.equal(t.jitter.againstTruth, true);
  assert.ok(t.jitter.reduction >= 0.5, `jitter ${t.jitter.raw} -> ${t.jitter.smoothed} (${(100 * t.jitter.reduction).toFixed(0)}% less)`);
  assert.equal(t.truthPsnr.perFrame.smoothed.length, FRAMES);
  assert.ok(t.truthPsnr.raw > 5 && t.truthPsnr.raw < 40, `truth PSNR ${t.truthPsnr.raw}`);
  assert.equal(t.flicker.reference, 'truth');
  assert.ok(t.flicker.raw > 0 && t.flicker.smoothed > 0);
  // A clip that is not a truth clip is refused as --truth with one line.
  const bad = runCli(['eval', '--model', model, '--video', clip.a, '--truth', clip.a, '--json']);
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr.trim(), /not a ground-truth clip/);
});

test('smoothing does not move the swapped face away from the truth (a decoder that always draws B\'s face)', { timeout: 300_000 }, async (ctx) => {
  // The tiny test model's output jumps with every pixel of its input, which buries a 0.2 dB
  // comparison in noise. This stand-in always decodes B's own face (frame 0 of the truth clip),
  // so the truth PSNR measures only where the alignment puts it: exactly what smoothing may spoil.
  const geometry = { size: 256, margin: 0.2 };
  const record = readClipRecord(path.dirname(clip.truth))!;
  const stand = { inputSize: 64, cropFraction: 0.75, geometry, identities: ['a', 'b'], data: {}, source: { checkpoint: null, step: null } };
  const first = (await frames(clip.truth))[0]!;
  const b = await alignedCrop({ width: 512, height: 640, data: first }, record.landmarks.b[0]!, stand as never);
  const face = tf.tensor3d(Float32Array.from(b.face, (v) => v / 255), [64, 64, 3]);
  // The same face 6 px to the right: what a misplaced paste looks like to the measure.
  const shifted = tf.concat([face.slice([0, 0, 0], [64, 6, 3]), face.slice([0, 0, 0], [64, 58, 3])], 1);
  const standIn = (f: tf.Tensor3D) => ({ ...stand, decode: (x: tf.Tensor4D) => tf.tidy(() => tf.stack(Array.from({ length: x.shape[0] }, () => f)) as tf.Tensor4D), dispose: () => undefined });
  const detector = await createDetector('ssd', 0.5);
  const { frames: found } = await analyseFrames(await probeVideo(clip.a), detector, { progressStream: null });
  const options = { frames: found, to: 'b', detector, person: null, minScore: 0.5, minFace: 40, smooth: {}, swap: {}, truth: clip.truth, progressStream: null };
  const t = await measureVideo(standIn(face), clip.a, options);
  const off = await measureVideo(standIn(shifted as tf.Tensor3D), clip.a, options);
  tf.dispose([face, shifted]);
  ctx.diagnostic(`jitter ${t.jitter.raw.toFixed(4)} -> ${t.jitter.smoothed.toFixed(4)}; truth PSNR ${t.truthPsnr!.raw.toFixed(3)} -> ${t.truthPsnr!.smoothed.toFixed(3)} dB; 6 px off: ${off.truthPsnr!.smoothed.toFixed(3)} dB`);
  assert.ok(t.jitter.reduction >= 0.5, `jitter ${t.jitter.raw} -> ${t.jitter.smoothed}`);
  assert.ok(t.truthPsnr!.smoothed >= t.truthPsnr!.raw - 0.2, `truth PSNR ${t.truthPsnr!.raw.toFixed(3)} -> ${t.truthPsnr!.smoothed.toFixed(3)} dB`);
  // And the measure can fail: the misplaced face scores clearly lower.
  assert.ok(off.truthPsnr!.smoothed < t.truthPsnr!.smoothed - 1, `B's face in place ${t.truthPsnr!.smoothed.toFixed(2)} dB, 6 px off ${off.truthPsnr!.smoothed.toFixed(2)} dB`);
});

test('bad videos: each refused with one line, the rest of the folder goes on, nothing half-written', { timeout: 300_000 }, async () => {
  const dir = path.join(tmp, 'bad');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'not-a-video.mp4'), 'hello, I am text\n');
  ffmpeg('-i', mixed, '-c', 'copy', '-movflags', '+faststart', path.join(tmp, 'fast.mp4'));
  const whole = fs.readFileSync(path.join(tmp, 'fast.mp4'));
  fs.writeFileSync(path.join(dir, 'truncated.mp4'), whole.subarray(0, Math.floor(whole.length * 0.6)));
  ffmpeg('-f', 'lavfi', '-i', 'sine=duration=0.5', '-c:a', 'aac', path.join(dir, 'audio-only.mp4'));
  fs.writeFileSync(path.join(dir, 'zero-frames.y4m'), 'YUV4MPEG2 W64 H64 F25:1 Ip A1:1 C420jpeg\n');
  ffmpeg('-f', 'lavfi', '-i', 'color=c=gray:size=4096x2160:rate=25:duration=0.08', '-c:v', 'libx264', '-preset', 'ultrafast', path.join(dir, 'above-4k.mp4'));
  // Variable frame rate: one second at 25 fps, one at 10, timestamps kept; and no sound.
  ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=128x96:rate=25:duration=1', '-f', 'lavfi', '-i', 'testsrc2=size=128x96:rate=10:duration=1',
    '-filter_complex', '[0:v]settb=1/1000[a];[1:v]settb=1/1000[b];[a][b]concat=n=2:v=1', '-fps_mode', 'vfr', '-c:v', 'libx264', path.join(dir, 'variable-rate.mp4'));
  const out = path.join(tmp, 'bad-out');
  const r = runCli(['swap', '--model', model, '--to', 'b', '--in', dir, '--out', out, '--json'], {}, 300_000);
  assert.equal(r.status, 0, r.stderr);
  const j = r.json as { videos: number; skipped: Record<string, number>; clips: Array<{ input: string; skipped: string | null; notes: string[]; frames: number; rate: string }> };
  const why = Object.fromEntries(j.clips.map((c) => [path.basename(c.input), c.skipped]));
  assert.match(why['not-a-video.mp4']!, /^not a video/);
  assert.match(why['truncated.mp4']!, /^truncated or damaged: \d+ frames decoded of 30/);
  assert.equal(why['audio-only.mp4'], 'no video stream (audio only)');
  assert.equal(why['zero-frames.y4m'], 'zero frames');
  assert.match(why['above-4k.mp4']!, /4096x2160, above the limit of 3840x2160/);
  for (const reason of Object.values(why)) if (reason) assert.ok(!reason.includes('\n'), `one line: ${reason}`);
  // The variable-rate clip is swapped at a constant rate (no face in it: every frame passes through).
  const vfr = j.clips.find((c) => c.input.endsWith('variable-rate.mp4'))!;
  assert.equal(vfr.skipped, null);
  assert.ok(vfr.notes.some((n) => /variable frame rate: converted to a constant/.test(n)), vfr.notes.join('; '));
  assert.ok(vfr.notes.some((n) => /no audio track/.test(n)));
  const written = await probeOutput(path.join(out, 'variable-rate.mp4'));
  assert.equal(written.frames, vfr.frames);
  assert.equal(written.rate, vfr.rate);
  assert.equal(j.videos, 1);
  assert.deepEqual(fs.readdirSync(out).sort(), ['variable-rate.mp4', 'variable-rate.provenance.json'], 'nothing of the refused clips is left');
  // One bad clip on its own is unusable input: exit 2 and one line.
  const single = runCli(['swap', '--model', model, '--to', 'b', '--in', path.join(dir, 'not-a-video.mp4'), '--out', out, '--json']);
  assert.equal(single.status, 2, single.stderr);
  assert.equal(single.stderr.trim().split('\n').length, 1, single.stderr);
  await assert.rejects(probeVideo(path.join(dir, 'above-4k.mp4')), VideoRefused);
});
