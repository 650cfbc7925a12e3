// Identity measures on face-api's recognition descriptors (128 numbers per face; faces of one
// person lie close together, about 0.6 apart is face-api's usual "different people" line).
//
// - identity transfer: is a swap nearer to the target person than to the source? A blur with the
//   target's skin tone already is, so this saturates early;
// - identity verification, the strict one: does the swap lie as close to the target's mean as the
//   target's own real photos do? The threshold is calibrated per person, leave-one-out: each real
//   face's distance to the mean of the others, and the distance 95% of them stay within.

import { descriptorDistance, meanDescriptor } from '../faces/recognition';
import { median, quantile } from '../util/stats';

/** Share of `swapped` descriptors nearer to `toward`'s mean than to `from`'s. */
export function identityTransfer(swapped: Float32Array[], from: Float32Array, toward: Float32Array): number {
  if (swapped.length === 0) return NaN;
  return swapped.filter((d) => descriptorDistance(d, toward) < descriptorDistance(d, from)).length / swapped.length;
}

/** A person's verification threshold, calibrated on their real faces. */
export interface Verifier {
  /** Mean descriptor of all the real faces. */
  mean: Float32Array;
  /** The distance from the mean that `coverage` of the real faces stay within (leave-one-out). */
  threshold: number;
  /** Median leave-one-out distance of the real faces: how far a typical real photo lies. */
  realMedian: number;
  coverage: number;
  faces: number;
}

/** Calibrate on at least 3 real faces of one person (fewer cannot leave one out meaningfully). */
export function calibrateVerifier(real: readonly Float32Array[], coverage = 0.95): Verifier {
  if (real.length < 3) throw new Error(`verification needs at least 3 real faces of the person, got ${real.length}`);
  const n = real.length;
  const sum = meanDescriptor(real).map((v) => v * n);
  // Mean of the others = (sum - d_i) / (n - 1): no n-squared loop.
  const distances = real.map((d) => descriptorDistance(d, sum.map((s, k) => (s - d[k]) / (n - 1))));
  return { mean: sum.map((s) => s / n), threshold: quantile(distances, coverage), realMedian: median(distances), coverage, faces: n };
}

export interface Verification {
  /** Share of the faces within the person's threshold. */
  rate: number;
  /** Median distance of the faces to the person's mean (compare with the verifier's realMedian). */
  medianDistance: number;
  threshold: number;
  realMedian: number;
}

/** How many of `faces` verify as the person `verifier` was calibrated on. */
export function verify(faces: readonly Float32Array[], verifier: Verifier): Verification {
  const d = faces.map((f) => descriptorDistance(f, verifier.mean));
  return {
    rate: faces.length ? d.filter((x) => x <= verifier.threshold).length / faces.length : NaN,
    medianDistance: median(d),
    threshold: verifier.threshold,
    realMedian: verifier.realMedian,
  };
}
