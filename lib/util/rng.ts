// A seeded random stream whose state can be saved in a checkpoint, so that a resumed run draws
// exactly the batches and augmentations an uninterrupted one would have drawn.

import seedrandom from 'seedrandom';
import { z } from 'zod';
import { schemaFor } from './jsonfile';

export type RngState = seedrandom.State.Arc4;
// schemaFor stays: the type is seedrandom's (State.Arc4), the schema only checks a saved state against it.
export const RngStateSchema = schemaFor<RngState>()(z.object({ i: z.number(), j: z.number(), S: z.array(z.number()) }));

export class Rng {
  private readonly prng: seedrandom.StatefulPRNG<RngState>;

  constructor(seed: number | string, state?: RngState) {
    this.prng = state ? seedrandom('', { state }) : seedrandom(String(seed), { state: true });
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.prng.double();
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Normal sample (Box-Muller; no cached second value, so the state stays one number stream). */
  normal(mean = 0, sd = 1): number {
    const u = 1 - this.next(); // (0, 1]: log(0) never happens
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** A random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): number[] {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [p[i], p[j]] = [p[j], p[i]];
    }
    return p;
  }

  state(): RngState {
    return this.prng.state();
  }
}
