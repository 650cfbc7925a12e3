// Landmark smoothing over time: the One Euro filter (Casiez, Roussel and Vogel, CHI 2012), a
// low-pass filter whose cut-off rises with speed, so a still face stops trembling while a turning
// head or a talking mouth is followed without much lag. Per-frame detection moves the 68
// landmarks by a pixel or two from frame to frame even on a still face; the alignment follows
// them, and the swapped face shimmers.
//
// The whole track is known before any frame is swapped, so the filter runs forward and backward
// and the two are averaged: the lag of one direction cancels the lead of the other.

import type { Point } from '../faces/types';
import { eyeCentres } from '../faces/template';

export interface SmoothOptions {
  /** 0 = off (per-frame landmarks), 1 = strongest. Maps to the filter's minimum cut-off, 10 Hz down to 0.1 Hz. */
  strength?: number;
  /** How fast the cut-off rises with speed, Hz per (eye distance per second). */
  beta?: number;
  /** Both directions averaged (no lag, needs the whole track), or forward only. */
  direction?: 'both' | 'forward';
}

export const DEFAULT_SMOOTH: Required<SmoothOptions> = { strength: 0.5, beta: 1.5, direction: 'both' };

/** The filter's minimum cut-off for a strength in (0, 1]. */
export const minCutoff = (strength: number): number => 10 ** (1 - 2 * strength);

const alpha = (cutoff: number, dt: number) => 1 / (1 + 1 / (2 * Math.PI * cutoff * dt));

/**
 * One Euro over a sequence of values sampled at `times` (seconds), each value a flat vector
 * (136 numbers: 68 points). Every coordinate is filtered on its own; `unit` scales speeds.
 */
function oneEuro(values: readonly Float64Array[], times: readonly number[], o: Required<SmoothOptions>, unit: number): Float64Array[] {
  const fc = minCutoff(o.strength), dCutoff = 1;
  const out: Float64Array[] = [];
  let prev: Float64Array | null = null, dPrev: Float64Array | null = null;
  values.forEach((x, i) => {
    if (!prev || !dPrev) {
      prev = Float64Array.from(x);
      dPrev = new Float64Array(x.length);
      out.push(Float64Array.from(x));
      return;
    }
    const dt = Math.max(1e-6, Math.abs(times[i]! - times[i - 1]!));
    const next = new Float64Array(x.length);
    const ad = alpha(dCutoff, dt);
    for (let k = 0; k < x.length; k++) {
      const dx = (x[k]! - prev[k]!) / dt;
      const edx = dPrev[k]! + ad * (dx - dPrev[k]!);
      dPrev[k] = edx;
      const a = alpha(fc + (o.beta * Math.abs(edx)) / unit, dt);
      next[k] = prev[k]! + a * (x[k]! - prev[k]!);
    }
    prev = next;
    out.push(next);
  });
  return out;
}

const flat = (pts: readonly Point[]) => Float64Array.from(pts.flat());
const points = (v: Float64Array): Point[] => Array.from({ length: v.length / 2 }, (_, i): Point => [v[2 * i]!, v[2 * i + 1]!]);

/**
 * Smooth one face's landmarks over the frames it was seen in (`frames` ascending, at `fps`).
 * Strength 0 returns the landmarks unchanged.
 */
export function smoothLandmarks(frames: readonly number[], landmarks: ReadonlyArray<readonly Point[]>, fps: number, options: SmoothOptions = {}): Point[][] {
  const o = { ...DEFAULT_SMOOTH, ...options };
  if (o.strength <= 0 || landmarks.length < 3) return landmarks.map((l) => l.map((p): Point => [p[0], p[1]]));
  // Speeds in eye distances per second, so one beta fits small and large faces.
  const iods = landmarks.map((l) => {
    const [a, b] = eyeCentres(l);
    return Math.hypot(b[0] - a[0], b[1] - a[1]);
  });
  const unit = [...iods].sort((p, q) => p - q)[iods.length >> 1] || 1;
  const times = frames.map((f) => f / fps);
  const values = landmarks.map(flat);
  const forward = oneEuro(values, times, o, unit);
  if (o.direction === 'forward') return forward.map(points);
  const backward = oneEuro([...values].reverse(), [...times].reverse(), o, unit).reverse();
  return forward.map((f, i) => points(f.map((v, k) => (v + backward[i]![k]!) / 2)));
}
