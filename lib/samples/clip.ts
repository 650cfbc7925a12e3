// The built-in talking-head clip: person A rendered by the rig along a smooth trajectory of its
// parameters (turning, nodding, talking, blinking), and person B along the very same trajectory,
// the ground truth of a swap of A's clip. With the true landmarks of every frame, a video swap's
// steadiness (jitter, flicker) and correctness (truth PSNR) become numbers.
//
//   DIR/a.mp4       A, with a little sensor noise, and a hum whose loudness follows the mouth
//   DIR/truth.mp4   B, clean, silent
//   DIR/clip.json   frame rate, every frame's parameters and both people's true landmarks
//
// Both clips are H.264 at high quality (they play in a browser page and in any player). A rerun
// with the same settings finds clip.json and its two clips and does nothing.

import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { CorruptFile, readJsonFileIfExists } from '../util/jsonfile';
import { RigParamsSchema } from './params';
import { writeFileAtomic } from '../util/fsutil';
import { roundPoints } from '../faces/alignments';
import { PointSchema } from '../faces/types';
import { Progress } from '../util/progress';
import { FrameEncoder, mux } from '../util/ffmpeg';
import { LICENCE_NOTE } from './identities';
import { clean, NEUTRAL, roundParams, type RigParams } from './params';
import { loadPerson, OUTPUT, render, renderLandmarks } from './rig';

export const CLIP_FILE = 'clip.json';
/** Bump when the trajectory or the rig changes what a frame shows. */
export const CLIP_VERSION = 1;

export interface ClipOptions {
  seconds?: number;
  fps?: number;
  progressStream?: NodeJS.WriteStream | null;
}

export const DEFAULT_CLIP = { seconds: 4, fps: 25 };

// PointSchema, not a z.tuple here: its type is the hand-written Point (see lib/faces/types.ts).
const Pts = z.array(z.array(PointSchema));
export const ClipRecordSchema = z.object({
  version: z.number(),
  fps: z.number(),
  frames: z.number(),
  width: z.number(),
  height: z.number(),
  files: z.object({ a: z.string(), truth: z.string() }),
  params: z.array(RigParamsSchema),
  /** The true 68 landmarks of every frame: `a` in a.mp4, `b` in truth.mp4. */
  landmarks: z.object({ a: Pts, b: Pts }),
  licence: z.string(),
});
export type ClipRecord = z.infer<typeof ClipRecordSchema>;

const bump = (t: number, at: number, width: number) => Math.exp(-(((t - at) / width) ** 2));

/**
 * The rig's parameters at time t (seconds): one slow turn left and right, a nod, a slight roll, a
 * stretch of talking (the mouth opening about three times a second), two blinks, a smile that
 * comes and goes. Smooth in t, so any frame-to-frame shake in a swap is the swap's.
 */
export function trajectory(t: number, seconds: number): RigParams {
  const T = seconds;
  const talking = Math.min(1, Math.max(0, Math.min(t - 0.3, T - 0.3 - t) / 0.3));
  return roundParams({
    ...NEUTRAL,
    yaw: 13 * Math.sin((2 * Math.PI * t) / T),
    pitch: 6 * Math.sin((2 * Math.PI * t) / (0.7 * T) + 0.6),
    roll: 4 * Math.sin((2 * Math.PI * t) / (1.3 * T)),
    scale: 1 + 0.03 * Math.sin((2 * Math.PI * t) / T + 1),
    mouthOpen: talking * 0.3 * (1 - Math.cos(2 * Math.PI * 2.8 * t)),
    smile: 0.25 + 0.25 * Math.sin((2 * Math.PI * t) / T),
    eyeClose: Math.min(1, bump(t, 0.3 * T, 0.07) + bump(t, 0.78 * T, 0.07)),
    browRaise: 0.3 * Math.sin((2 * Math.PI * t) / (0.5 * T)),
    lightAngle: 40,
    lightStrength: 0.2,
    noise: 2,
  });
}

/** A mono 16-bit WAV: a low hum whose loudness follows the mouth, so a muxed clip's sound is easy to check by ear and by ffprobe. */
function humWav(params: readonly RigParams[], fps: number): Buffer {
  const rate = 22050, n = Math.round((params.length / fps) * rate);
  const pcm = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const open = params[Math.min(params.length - 1, Math.floor(t * fps))]!.mouthOpen;
    const v = 0.25 * Math.min(1, open * 2) * (Math.sin(2 * Math.PI * 140 * t) + 0.5 * Math.sin(2 * Math.PI * 280 * t));
    pcm.writeInt16LE(Math.round(v * 32767), 2 * i);
  }
  const h = Buffer.alloc(44);
  h.write('RIFF', 0); h.writeUInt32LE(36 + pcm.length, 4); h.write('WAVE', 8); h.write('fmt ', 12);
  h.writeUInt32LE(16, 16); h.writeUInt16LE(1, 20); h.writeUInt16LE(1, 22); h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28); h.writeUInt16LE(2, 32); h.writeUInt16LE(16, 34); h.write('data', 36); h.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([h, pcm]);
}

export interface ClipSummary {
  a: string;
  truth: string;
  record: string;
  frames: number;
  fps: number;
  rendered: boolean;
  seconds: number;
}

/** The clip record in `dir`, or null when there is none or it is damaged (the clip is then rendered again). */
export function readClipRecord(dir: string): ClipRecord | null {
  try {
    return readJsonFileIfExists(path.join(dir, CLIP_FILE), ClipRecordSchema);
  } catch (e) {
    if (e instanceof CorruptFile) return null;
    throw e;
  }
}

/** Render the built-in clip into `dir` (skipped when it is there with the same settings). */
export async function writeSampleClip(dir: string, options: ClipOptions = {}): Promise<ClipSummary> {
  const { seconds, fps } = { ...DEFAULT_CLIP, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  const started = Date.now();
  const frames = Math.max(3, Math.round(seconds * fps));
  const files = { a: path.join(dir, 'a.mp4'), truth: path.join(dir, 'truth.mp4') };
  const done = (rendered: boolean): ClipSummary => ({ a: path.resolve(files.a), truth: path.resolve(files.truth), record: path.resolve(dir, CLIP_FILE), frames, fps, rendered, seconds: (Date.now() - started) / 1000 });
  const old = readClipRecord(dir);
  if (old && old.version === CLIP_VERSION && old.fps === fps && old.frames === frames && fs.existsSync(files.a) && fs.existsSync(files.truth)) return done(false);

  fs.mkdirSync(dir, { recursive: true });
  const people = { a: await loadPerson('a'), b: await loadPerson('b') };
  const params = Array.from({ length: frames }, (_, i) => trajectory(i / fps, frames / fps));
  const tmp = { a: `${files.a}.video.tmp`, truth: `${files.truth}.tmp` };
  const rate = `${fps}/1`;
  const enc = { a: new FrameEncoder(tmp.a, { width: OUTPUT.width, height: OUTPUT.height, rate, crf: 12 }), truth: new FrameEncoder(tmp.truth, { width: OUTPUT.width, height: OUTPUT.height, rate, crf: 12 }) };
  const progress = new Progress('samples --video', frames, { unit: 'frames', stream: options.progressStream });
  const wav = `${files.a}.wav.tmp`;
  try {
    for (const p of params) {
      await enc.a.write((await render(people.a, p)).image);
      await enc.truth.write((await render(people.b, clean(p))).image);
      progress.tick();
    }
    await enc.a.finish();
    await enc.truth.finish();
    fs.writeFileSync(wav, humWav(params, fps));
    const aOut = `${files.a}.tmp`;
    await mux({ parts: [tmp.a], audioFrom: wav, out: aOut, metadata: { comment: `deepfake-lab built-in clip: person A (${LICENCE_NOTE})` } });
    fs.renameSync(aOut, files.a);
    fs.renameSync(tmp.truth, files.truth);
  } catch (e) {
    enc.a.abort();
    enc.truth.abort();
    throw e;
  } finally {
    progress.stop();
    for (const f of [tmp.a, tmp.truth, wav, `${files.a}.tmp`]) fs.rmSync(f, { force: true });
  }
  const record: ClipRecord = {
    version: CLIP_VERSION, fps, frames, width: OUTPUT.width, height: OUTPUT.height,
    files: { a: 'a.mp4', truth: 'truth.mp4' },
    params,
    landmarks: {
      a: params.map((p) => roundPoints(renderLandmarks(people.a, p)) as [number, number][]),
      b: params.map((p) => roundPoints(renderLandmarks(people.b, clean(p))) as [number, number][]),
    },
    licence: LICENCE_NOTE,
  };
  // Written last: its presence means both clips are complete.
  await writeFileAtomic(path.join(dir, CLIP_FILE), JSON.stringify(record));
  return done(true);
}

/** The clip record and which role a clip file plays in it, found beside the file (null for a user's own clip). */
export function clipTruthFor(file: string): { record: ClipRecord; role: 'a' | 'truth' } | null {
  const record = readClipRecord(path.dirname(file));
  if (!record) return null;
  const name = path.basename(file);
  if (name === record.files.a) return { record, role: 'a' };
  if (name === record.files.truth) return { record, role: 'truth' };
  return null;
}
