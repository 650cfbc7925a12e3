// Expressions and head turns as displacements of the control points, in local face units
// (face-frame.ts). Each expression moves the landmarks that move on a real face, by amounts read
// off photos of the same people with and without the expression; the pixels follow through the
// piecewise-affine warp.

import type { Point } from '../faces/types';
import { FOREHEAD_START } from './face-frame';
import type { RigParams } from './params';

type Moves = Array<[index: number, dx: number, dy: number]>;

/** Mouth opening at 1: the jaw drops and the lower lip with it; the upper lip lifts a little. */
// prettier-ignore
const MOUTH_OPEN: Moves = [
  [2, 0, 0.02], [14, 0, 0.02], [3, 0, 0.07], [13, 0, 0.07], [4, 0.01, 0.14], [12, -0.01, 0.14],
  [5, 0.02, 0.23], [11, -0.02, 0.23], [6, 0.02, 0.32], [10, -0.02, 0.32], [7, 0.01, 0.4], [9, -0.01, 0.4], [8, 0, 0.43],
  [48, 0.04, 0.15], [54, -0.04, 0.15], [60, 0.04, 0.15], [64, -0.04, 0.15],
  [49, 0, -0.02], [50, 0, -0.03], [51, 0, -0.03], [52, 0, -0.03], [53, 0, -0.02],
  [61, 0, -0.04], [62, 0, -0.045], [63, 0, -0.04],
  [55, -0.01, 0.33], [56, 0, 0.41], [57, 0, 0.43], [58, 0, 0.41], [59, 0.01, 0.33],
  [65, 0, 0.37], [66, 0, 0.43], [67, 0, 0.37],
];

/** Smile at 1: the corners go out and up, the cheeks widen, the lower lids rise (squint). */
// prettier-ignore
const SMILE: Moves = [
  [48, -0.11, -0.09], [60, -0.09, -0.07], [54, 0.11, -0.09], [64, 0.09, -0.07],
  [49, -0.05, -0.04], [53, 0.05, -0.04], [50, -0.02, -0.02], [52, 0.02, -0.02], [51, 0, -0.01],
  [61, -0.03, -0.03], [63, 0.03, -0.03], [62, 0, -0.015],
  [59, -0.05, -0.05], [55, 0.05, -0.05], [58, -0.02, -0.03], [56, 0.02, -0.03], [57, 0, -0.02],
  [67, -0.03, -0.04], [65, 0.03, -0.04], [66, 0, -0.025],
  [3, -0.03, -0.01], [4, -0.035, -0.015], [5, -0.025, -0.015], [13, 0.03, -0.01], [12, 0.035, -0.015], [11, 0.025, -0.015],
  [31, -0.02, -0.01], [35, 0.02, -0.01],
  [40, 0, -0.03], [41, 0, -0.03], [46, 0, -0.03], [47, 0, -0.03],
];

/** Brow raise at 1 (a negative value draws them down and together, a frown). */
// prettier-ignore
const BROW_RAISE: Moves = [
  [17, 0, -0.09], [18, 0, -0.12], [19, 0, -0.13], [20, 0, -0.13], [21, 0, -0.12],
  [22, 0, -0.12], [23, 0, -0.13], [24, 0, -0.13], [25, 0, -0.12], [26, 0, -0.09],
  [37, 0, -0.015], [38, 0, -0.015], [43, 0, -0.015], [44, 0, -0.015],
  [FOREHEAD_START + 1, 0, -0.05], [FOREHEAD_START + 2, 0, -0.05], [FOREHEAD_START + 3, 0, -0.05],
];
/** The frown's extra: inner brows come down more and move towards each other. */
// prettier-ignore
const FROWN_EXTRA: Moves = [[20, 0.02, -0.03], [21, 0.05, -0.05], [22, -0.05, -0.05], [23, -0.02, -0.03]];

/** Upper lid onto the lower one: [upper point, lower point it closes onto]. */
const LIDS: Array<[number, number]> = [[37, 41], [38, 40], [43, 47], [44, 46]];

function apply(points: Point[], moves: Moves, amount: number): void {
  if (amount === 0) return;
  for (const [i, dx, dy] of moves) {
    points[i][0] += dx * amount;
    points[i][1] += dy * amount;
  }
}

/** Expressions, on a copy of the local control points. */
export function express(local: readonly Point[], p: RigParams): Point[] {
  const out = local.map((q): Point => [q[0], q[1]]);
  // Lids first, from the source's own lid gap; then the lower lids' rise from a smile.
  if (p.eyeClose > 0) {
    const t = 0.92 * p.eyeClose;
    for (const [u, l] of LIDS) {
      out[u][0] += (local[l][0] - local[u][0]) * t;
      out[u][1] += (local[l][1] - local[u][1]) * t;
    }
    for (const i of [17, 18, 19, 20, 21, 22, 23, 24, 25, 26]) out[i][1] += 0.03 * p.eyeClose;
  }
  apply(out, MOUTH_OPEN, p.mouthOpen);
  apply(out, SMILE, p.smile);
  apply(out, BROW_RAISE, p.browRaise);
  if (p.browRaise < 0) apply(out, FROWN_EXTRA, -p.browRaise);
  return out;
}

/**
 * Head turn (yaw) and nod (pitch) of the local points, each standing `depth` in front of the side
 * plane: rotate in 3D about the vertical axis, then about the horizontal one, and project
 * orthographically. Points in the side plane (the ring, depth 0) barely move, so neither does the
 * background; the nose moves most.
 */
export function turn(local: readonly Point[], depth: readonly number[], yawDeg: number, pitchDeg: number): Point[] {
  const a = (yawDeg * Math.PI) / 180, b = (pitchDeg * Math.PI) / 180;
  const ca = Math.cos(a), sa = Math.sin(a), cb = Math.cos(b), sb = Math.sin(b);
  return local.map(([u, v], i): Point => {
    const z = depth[i];
    const z1 = -u * sa + z * ca;
    return [u * ca + z * sa, v * cb + z1 * sb];
  });
}
