// How far two arrays of a computation differ: the largest difference relative to the largest
// reference value (so a tolerance means "this share of the output's scale").

export function relativeError(ref: Float32Array, got: Float32Array): number {
  let scale = 1e-12, worst = 0;
  for (let i = 0; i < ref.length; i++) {
    scale = Math.max(scale, Math.abs(ref[i]!));
    worst = Math.max(worst, Math.abs(ref[i]! - got[i]!));
  }
  return worst / scale;
}
