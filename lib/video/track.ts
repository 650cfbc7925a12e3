// Face tracks: which detection in each frame is the same person as in the frames before. Per-frame
// detection alone knows nothing of that, so with two people in the clip a swap could jump from one
// to the other, and smoothing over time needs one face's landmarks in order.
//
// Linking, frame by frame: every live track predicts its box (last box plus its last motion); a
// detection joins the track that costs least, cost = (1 - overlap) + identity distance (face-api's
// recognition descriptor, which stays apart when two faces cross and their boxes overlap). A
// detection no track accepts opens a new one, or revives a track lost a while ago if the
// descriptor says it is that person again.

import { z } from 'zod';
import { BoxSchema, PointSchema, type Box } from '../faces/types';
import { descriptorDistance, meanDescriptor } from '../faces/recognition';

export const FrameFaceSchema = z.object({
  box: BoxSchema,
  score: z.number(),
  landmarks: z.array(PointSchema),
  /** face-api's 128-number recognition descriptor, or null when it was not computed. */
  descriptor: z.array(z.number()).nullable(),
});
/** One face found in one frame (what the analysis pass stores per frame). */
export type FrameFace = z.infer<typeof FrameFaceSchema>;

export interface TrackOptions {
  /** A detection and a predicted box overlapping less than this (IoU) are not the same face by position. */
  minOverlap?: number;
  /** Descriptors further apart than this are not the same person (face-api's own 0.6, a little stricter). */
  maxIdentityDistance?: number;
  /** Frames a track may go unseen (occlusion, a missed detection) before it ends. */
  maxGap?: number;
}

export const DEFAULT_TRACK: Required<TrackOptions> = { minOverlap: 0.1, maxIdentityDistance: 0.55, maxGap: 12 };

export interface Track {
  id: number;
  /** frame index -> the face in that frame. */
  faces: Map<number, FrameFace>;
  /** Mean descriptor of the track's faces (null when none carried one). */
  descriptor: Float32Array | null;
}

export function iou(a: Box, b: Box): number {
  const x0 = Math.max(a.x, b.x), y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width), y1 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  return inter / (a.width * a.height + b.width * b.height - inter || 1);
}

interface Live {
  track: Track;
  last: number;
  box: Box;
  /** Box motion per frame, from the last two sightings. */
  velocity: [number, number];
  descriptors: number[][];
}

function predict(l: Live, frame: number): Box {
  const dt = frame - l.last;
  return { ...l.box, x: l.box.x + l.velocity[0] * dt, y: l.box.y + l.velocity[1] * dt };
}

/** Recent descriptors of a track, averaged: the person as they look now. */
const recent = (l: Live): Float32Array | null => (l.descriptors.length ? meanDescriptor(l.descriptors.slice(-8)) : null);

/** Link the faces of every frame (in frame order) into tracks. Deterministic. */
export function trackFaces(frames: ReadonlyArray<readonly FrameFace[]>, options: TrackOptions = {}): Track[] {
  const o = { ...DEFAULT_TRACK, ...options };
  const tracks: Track[] = [];
  let live: Live[] = [];
  const ended: Live[] = [];
  frames.forEach((faces, frame) => {
    // Every (track, face) pair that may be the same face, cheapest first.
    const pairs: Array<{ l: Live; f: number; cost: number }> = [];
    for (const l of live) {
      const predicted = predict(l, frame);
      const person = recent(l);
      faces.forEach((face, f) => {
        const overlap = iou(predicted, face.box);
        const distance = person && face.descriptor ? descriptorDistance(person, face.descriptor) : null;
        if (distance !== null && distance > o.maxIdentityDistance) return;
        if (overlap < o.minOverlap) return;
        pairs.push({ l, f, cost: 1 - overlap + (distance ?? 0.3) });
      });
    }
    pairs.sort((p, q) => p.cost - q.cost || p.l.track.id - q.l.track.id || p.f - q.f);
    const usedTrack = new Set<Live>(), usedFace = new Set<number>();
    const join = (l: Live, f: number) => {
      const face = faces[f]!;
      const dt = frame - l.last;
      if (l.track.faces.size > 0 && dt > 0) l.velocity = [(face.box.x - l.box.x) / dt, (face.box.y - l.box.y) / dt];
      l.box = face.box;
      l.last = frame;
      if (face.descriptor) l.descriptors.push(face.descriptor);
      l.track.faces.set(frame, face);
      usedTrack.add(l);
      usedFace.add(f);
    };
    for (const p of pairs) if (!usedTrack.has(p.l) && !usedFace.has(p.f)) join(p.l, p.f);
    faces.forEach((face, f) => {
      if (usedFace.has(f)) return;
      // A person seen before, come back (after an occlusion or leaving the frame)? Identity alone
      // decides here: a face hidden behind another reappears far from where its box predicted.
      let best: { l: Live; d: number } | null = null;
      if (face.descriptor)
        for (const l of [...ended, ...live.filter((k) => !usedTrack.has(k) && k.last < frame)]) {
          const person = recent(l);
          const d = person ? descriptorDistance(person, face.descriptor) : Infinity;
          if (d <= o.maxIdentityDistance && (!best || d < best.d)) best = { l, d };
        }
      if (best) {
        if (ended.includes(best.l)) {
          ended.splice(ended.indexOf(best.l), 1);
          live.push(best.l);
        }
        join(best.l, f);
        // The jump across the gap is not a motion; the next frames measure it afresh.
        best.l.velocity = [0, 0];
        return;
      }
      const l: Live = { track: { id: tracks.length, faces: new Map(), descriptor: null }, last: frame, box: face.box, velocity: [0, 0], descriptors: [] };
      tracks.push(l.track);
      live.push(l);
      join(l, f);
    });
    const still: Live[] = [];
    for (const l of live) (frame - l.last > o.maxGap ? ended : still).push(l);
    live = still;
  });
  for (const t of tracks) {
    const ds = [...t.faces.values()].flatMap((f) => (f.descriptor ? [f.descriptor] : []));
    t.descriptor = ds.length ? meanDescriptor(ds) : null;
  }
  return tracks;
}
