// The learning rate over a training run. The 2018 code kept Adam's rate constant for days; a run of
// minutes does better with a short linear warm-up (Adam's first steps are noisy) and then half a
// cosine down to a floor, so that the last steps refine instead of jitter (SGDR, Loshchilov &
// Hutter 2017). The schedule is fitted to the run's budget, in steps or in seconds of training.
//
// A budget is one *cycle*. Continuing a model (re-running chapter 03's training cell, or `train`
// with a higher --steps) starts a new cycle at `restart` times the previous cycle's peak, with its
// own warm-up and decay: a warm restart, gentler each time, so a continued model improves instead
// of first getting worse. A run interrupted mid-cycle (Ctrl-C, a crash) resumes the same cycle.

import { z } from 'zod';
import type { LrSchedule } from './settings-schema';

// Declared once, as a schema: lib/train/settings-schema.ts.
export type { LrSchedule } from './settings-schema';

export const CONSTANT_LR: LrSchedule = { shape: 'constant', warmup: 0, floor: 1, restart: 1 };

/** One budgeted run. Saved in checkpoints, so an interrupted cycle continues where it was. */
export const LrCycleSchema = z.object({
  /** 0 for a model's first run. */
  index: z.number(),
  /** The step the cycle started at. */
  startStep: z.number(),
  /** The cycle ends when the model reaches this step... */
  untilStep: z.number().nullable(),
  /** ...or after this many seconds of training steps (evaluation pauses do not count). */
  seconds: z.number().nullable(),
  /** Seconds of training steps so far in this cycle. */
  elapsedSeconds: z.number(),
  /** The peak rate of this cycle. */
  peak: z.number(),
});
export type LrCycle = z.infer<typeof LrCycleSchema>;

/** How far through the cycle a step is, 0..1 (whichever budget is nearer its end). */
export function cycleProgress(c: LrCycle, step: number): number {
  const bySteps = c.untilStep !== null && c.untilStep > c.startStep ? (step - c.startStep) / (c.untilStep - c.startStep) : 0;
  const byTime = c.seconds !== null && c.seconds > 0 ? c.elapsedSeconds / c.seconds : 0;
  return Math.min(1, Math.max(0, bySteps, byTime));
}

/** The learning rate at `progress` (0..1) of a cycle with this peak. */
export function learningRateAt(s: LrSchedule, peak: number, progress: number): number {
  if (s.shape === 'constant') return peak;
  const p = Math.min(1, Math.max(0, progress));
  const low = peak * s.floor;
  if (s.warmup > 0 && p < s.warmup) return low + (peak - low) * (p / s.warmup);
  const q = s.warmup < 1 ? (p - s.warmup) / (1 - s.warmup) : 1;
  return low + (peak - low) * 0.5 * (1 + Math.cos(Math.PI * q));
}

/** The cycle that follows `previous` (or a model's first), starting at `step`. */
export function nextCycle(s: LrSchedule, basePeak: number, previous: LrCycle | null, step: number, budget: { untilStep?: number; seconds?: number }): LrCycle {
  return {
    index: previous ? previous.index + 1 : 0,
    startStep: step,
    untilStep: budget.untilStep ?? null,
    seconds: budget.seconds ?? null,
    elapsedSeconds: 0,
    peak: previous ? previous.peak * s.restart : basePeak,
  };
}
