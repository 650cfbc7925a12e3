// Has training blown up? Too high a learning rate saturates the network's outputs, and no later
// step repairs them: with `--lr 1e-3` the default recipe did this in one of two runs (the loss
// jumped from 0.39 to 1.21 at step 165 of 1400 and stayed there until the end). A learner who
// raised the rate should hear it at once, not after the run as a grey blob.
//
// The watch keeps, per identity, the median loss of the last `window` steps (a median: the
// augmentation makes single steps noisy) and the best such median so far. Diverged: the current
// median is `factor` times the best, or a loss is not a finite number.

import { median } from '../util/stats';
import type { HistoryEntry } from './history';

export interface DivergenceOptions {
  /** Steps per median. Default 20. */
  window: number;
  /** How many times the best median the current one must be. Default 2. */
  factor: number;
}

export const DEFAULT_DIVERGENCE: DivergenceOptions = { window: 20, factor: 2 };

export interface Divergence {
  step: number;
  identity: string;
  /** The best median loss so far, and the median now (NaN when the loss is not a number). */
  best: number;
  now: number;
  /** One line for a person. */
  reason: string;
}

export class DivergenceWatch {
  private readonly recent = new Map<string, number[]>();
  private readonly best = new Map<string, number>();

  constructor(private readonly options: DivergenceOptions = DEFAULT_DIVERGENCE) {}

  /** Feed one step; the divergence it shows, or null. */
  observe(entry: HistoryEntry): Divergence | null {
    for (const [id, loss] of Object.entries(entry.loss)) {
      if (!Number.isFinite(loss)) {
        return { step: entry.step, identity: id, best: this.best.get(id) ?? NaN, now: NaN, reason: `the loss of ${id} is ${loss} at step ${entry.step}` };
      }
      const recent = this.recent.get(id) ?? [];
      recent.push(loss);
      if (recent.length > this.options.window) recent.shift();
      this.recent.set(id, recent);
      if (recent.length < this.options.window) continue;
      const now = median(recent);
      const best = Math.min(this.best.get(id) ?? Infinity, now);
      this.best.set(id, best);
      if (now > this.options.factor * best) {
        return { step: entry.step, identity: id, best, now, reason: `the loss of ${id} rose from ${best.toFixed(3)} to ${now.toFixed(3)} (median of ${this.options.window} steps) by step ${entry.step}` };
      }
    }
    return null;
  }
}
