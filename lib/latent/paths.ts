// Walks through latent space, as plain arrays (decode them with decodeLatent):
// - interpolation: the straight line from one face's code to another's;
// - traversal: a face's code pushed along a principal direction by k standard deviations;
// - new faces: codes that no photo produced, mixed from two real codes plus some noise.

import seedrandom from 'seedrandom';
import type { Codes } from './codes';
import type { PcaModel } from './projection';

/** `steps` codes from a to b; the first is exactly a and the last exactly b. */
export function interpolate(a: readonly number[], b: readonly number[], steps: number): Codes {
  if (a.length !== b.length) throw new Error(`codes differ in length: ${a.length} vs ${b.length}`);
  if (!(Number.isInteger(steps) && steps >= 2)) throw new Error(`steps must be an integer >= 2, got ${steps}`);
  return Array.from({ length: steps }, (_, i) => {
    const t = i / (steps - 1);
    // (1 - t) * a + t * b would not give exactly b at t = 1 in floating point; this does.
    return a.map((v, j) => (i === steps - 1 ? b[j] : v + t * (b[j] - v)));
  });
}

/** code + k * sigma * component for each k: one row of a traversal. */
export function traverse(code: readonly number[], pca: PcaModel, component: number, ks: readonly number[]): Codes {
  const dir = pca.components[component];
  if (!dir) throw new Error(`component ${component} does not exist (have ${pca.components.length})`);
  const sigma = pca.sigmas[component];
  return ks.map((k) => code.map((v, j) => v + k * sigma * dir[j]));
}

export interface NewCodesOptions {
  count: number;
  seed?: number;
  /** Noise along each principal direction, in that direction's standard deviations. Default 0.5. */
  spread?: number;
}

/** Standard normal numbers from a seeded stream (Box-Muller). */
function gaussian(rng: () => number): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/**
 * Codes of faces nobody photographed: each mixes two random real codes at a random point between
 * them, then adds Gaussian noise along the principal directions, scaled by their spreads (noise in
 * directions the codes never vary in would only produce garbage).
 */
export function newCodes(codes: Codes, pca: PcaModel, { count, seed = 1, spread = 0.5 }: NewCodesOptions): Codes {
  if (codes.length < 1) throw new Error('need at least one real code');
  const rng = seedrandom(`new-codes-${seed}`);
  return Array.from({ length: count }, () => {
    const a = codes[Math.floor(rng() * codes.length)];
    const b = codes[Math.floor(rng() * codes.length)];
    const t = rng();
    const code = a.map((v, j) => v + t * (b[j] - v));
    pca.components.forEach((dir, c) => {
      const step = gaussian(rng) * spread * pca.sigmas[c];
      for (let j = 0; j < code.length; j++) code[j] += step * dir[j];
    });
    return code;
  });
}
