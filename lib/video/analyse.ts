// The first pass over a clip: every frame's faces (box, score, 68 landmarks, identity
// descriptor), then tracks and smoothed landmarks, and from them the plan of which face to swap
// with which landmarks in every frame. The faces are kept one JSON line per frame in the work
// folder as they are found, so a killed run resumes at the frame it stopped at.

import * as fs from 'fs';
import { z } from 'zod';
import type { FaceDetector } from '../faces/detector';
import type { DetectedFace, Point } from '../faces/types';
import { roundPoints } from '../faces/alignments';
import { descriptorDistance } from '../faces/recognition';
import { imageToTensor } from '../util/image';
import { readJsonLines } from '../util/jsonfile';
import { writeFileAtomicSync } from '../util/fsutil';
import { Progress, type ProgressState } from '../util/progress';
import { describeFace } from '../swap/person';
import { readFrames, type VideoInfo } from '../util/ffmpeg';
import { smoothLandmarks, type SmoothOptions } from './smooth';
import { FrameFaceSchema, trackFaces, type FrameFace, type Track, type TrackOptions } from './track';

const FrameLineSchema = z.object({
  frame: z.number(),
  faces: z.array(FrameFaceSchema),
});

const round = (x: number, d: number) => Number(x.toFixed(d));

/** Frames the decode should give, for progress bars (the container's count, else duration x rate). */
export const expectedFrames = (info: VideoInfo): number => (info.variableFrameRate || info.frames === null ? Math.round((info.seconds ?? 0) * info.fps) : info.frames);

/** Every frame's faces, from `store` (a JSON-lines file) where earlier runs found them, the rest by detection. */
export async function analyseFrames(info: VideoInfo, detector: FaceDetector, options: { store?: string; signal?: AbortSignal; progressStream?: NodeJS.WriteStream | null; onProgress?: (s: ProgressState) => void } = {}): Promise<{ frames: FrameFace[][]; interrupted: boolean }> {
  const known: FrameFace[][] = [];
  if (options.store && fs.existsSync(options.store)) {
    // Only a run of whole lines from frame 0 counts; a line cut off by a kill is dropped.
    for (const r of readJsonLines(options.store, FrameLineSchema).records) {
      if (r.frame !== known.length) break;
      known.push(r.faces);
    }
    writeFileAtomicSync(options.store, known.map((faces, frame) => JSON.stringify({ frame, faces }) + '\n').join(''));
  }
  const frames: FrameFace[][] = [];
  const progress = new Progress('video: finding faces', expectedFrames(info), { unit: 'frames', stream: options.progressStream, onUpdate: options.onProgress });
  let interrupted = false;
  try {
    for await (const image of readFrames(info)) {
      const i = frames.length;
      if (i < known.length) {
        frames.push(known[i]!);
        progress.tick();
        continue;
      }
      if (options.signal?.aborted) {
        interrupted = true;
        break;
      }
      const detected = await detector.detect(image);
      const faces: FrameFace[] = [];
      if (detected.length) {
        const t = imageToTensor(image);
        try {
          for (const d of detected) {
            const descriptor = Array.from(await describeFace(t, d.landmarks), (v) => round(v, 4));
            faces.push({ box: { x: round(d.box.x, 2), y: round(d.box.y, 2), width: round(d.box.width, 2), height: round(d.box.height, 2) }, score: round(d.score, 4), landmarks: roundPoints(d.landmarks), descriptor });
          }
        } finally {
          t.dispose();
        }
      }
      frames.push(faces);
      if (options.store) fs.appendFileSync(options.store, JSON.stringify({ frame: i, faces }) + '\n');
      progress.tick();
    }
  } finally {
    progress.stop();
  }
  return { frames, interrupted };
}

export interface PlanOptions {
  /** null: every track; else only tracks whose mean descriptor lies within `threshold` of it. */
  person: { descriptor: Float32Array; threshold: number } | null;
  minScore: number;
  minFace: number;
  smooth: SmoothOptions;
  track?: TrackOptions;
}

export interface TrackPlan {
  id: number;
  frames: number;
  swapped: boolean;
  /** Why a track is not swapped. */
  reason: string | null;
}

export interface SwapPlan {
  tracks: TrackPlan[];
  /** Per frame, the faces to swap with per-frame (raw) and smoothed landmarks. */
  raw: DetectedFace[][];
  smoothed: DetectedFace[][];
  /** Per frame, per swapped track id: the raw and smoothed landmarks (for the temporal metrics). */
  byTrack: Map<number, { raw: Array<Point[] | null>; smoothed: Array<Point[] | null> }>;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? 0;

/**
 * Which faces to swap in each frame. Decided per track, not per frame, so a face is swapped in
 * every frame it is seen in or in none (a score dithering around the threshold would otherwise
 * switch the swap on and off).
 */
export function planSwap(frames: ReadonlyArray<readonly FrameFace[]>, fps: number, o: PlanOptions): SwapPlan {
  const tracks = trackFaces(frames, o.track);
  const plan: SwapPlan = { tracks: [], raw: frames.map(() => []), smoothed: frames.map(() => []), byTrack: new Map() };
  for (const t of tracks) {
    const faces = [...t.faces.entries()].sort((p, q) => p[0] - q[0]);
    const reason = whyNot(t, faces.map(([, f]) => f), frames.length, o);
    plan.tracks.push({ id: t.id, frames: faces.length, swapped: reason === null, reason });
    if (reason) continue;
    const smooth = smoothLandmarks(faces.map(([i]) => i), faces.map(([, f]) => f.landmarks), fps, o.smooth);
    const series = { raw: frames.map((): Point[] | null => null), smoothed: frames.map((): Point[] | null => null) };
    faces.forEach(([i, f], k) => {
      const base = { box: f.box, score: f.score, detector: 'track' };
      plan.raw[i]!.push({ ...base, landmarks: f.landmarks });
      plan.smoothed[i]!.push({ ...base, landmarks: smooth[k]! });
      series.raw[i] = f.landmarks;
      series.smoothed[i] = smooth[k]!;
    });
    plan.byTrack.set(t.id, series);
  }
  return plan;
}

function whyNot(t: Track, faces: FrameFace[], clipFrames: number, o: PlanOptions): string | null {
  // A face seen in one or two frames of a longer clip is most likely a false detection; so is one
  // that comes and goes (a real face is found in nearly every frame), and swapping it would flicker.
  if (faces.length < Math.min(3, clipFrames)) return 'too short a track';
  const span = t.faces.size ? Math.max(...t.faces.keys()) - Math.min(...t.faces.keys()) + 1 : 0;
  if (faces.length < 0.5 * span) return 'found in too few of its frames';
  if (median(faces.map((f) => f.score)) < o.minScore) return 'low score';
  if (median(faces.map((f) => Math.min(f.box.width, f.box.height))) < o.minFace) return 'too small';
  if (o.person && (!t.descriptor || descriptorDistance(t.descriptor, o.person.descriptor) >= o.person.threshold)) return 'not the person';
  return null;
}
