// Delaunay triangulation of the rig's points (delaunator 4.0.1: its CommonJS build loads with
// `require`, which the project's CommonJS output and tslab need; 5.x is ESM-only).

import Delaunator from 'delaunator';
import type { Point } from '../faces/types';

export type Triangle = [number, number, number];

/**
 * Triangles over the points, as index triples. The rig triangulates the *destination* points of
 * each render: triangles that do not overlap where they are drawn leave no holes and no double
 * cover in the output, whatever the expression did to the mouth and eyes.
 */
export function triangulate(points: readonly Point[]): Triangle[] {
  const t = Delaunator.from(points).triangles;
  const out: Triangle[] = [];
  for (let i = 0; i < t.length; i += 3) out.push([t[i], t[i + 1], t[i + 2]]);
  return out;
}
