// Plain records shared by the face stages (detector, aligner, filters, writer), with the schemas
// that read them back from alignments.json and the landmark cache.

import { z } from 'zod';
import { schemaFor } from '../util/jsonfile';

/** A point in pixels: [x, y]. */
// Written twice on purpose: without strictNullChecks (tslab) z.infer of a tuple is [number?, number?, ...unknown[]].
export type Point = [number, number];
export const PointSchema = schemaFor<Point>()(z.tuple([z.number(), z.number()]));

export const BoxSchema = z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() });
export type Box = z.infer<typeof BoxSchema>;

/** The smallest box holding the points. */
export function landmarkBox(points: readonly (readonly [number, number])[]): Box {
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  const x = Math.min(...xs), y = Math.min(...ys);
  return { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y };
}

/** The box grown on every side by `fraction` of its longer side (the region around a face). */
export function growBox(box: Box, fraction: number): Box {
  const g = fraction * Math.max(box.width, box.height);
  return { x: box.x - g, y: box.y - g, width: box.width + 2 * g, height: box.height + 2 * g };
}

/** What a detector reports for one face, in the photo's pixel coordinates. */
export interface DetectedFace {
  box: Box;
  /** Detector confidence, 0 to 1. */
  score: number;
  /** The 68 landmarks of the iBUG 300-W scheme: jaw 0-16, brows 17-26, nose 27-35, eyes 36-47, mouth 48-67. */
  landmarks: Point[];
  /** Which detector found it ('ssd', 'tiny'). */
  detector: string;
}

/** A 2x3 affine matrix [[a, b, c], [d, e, f]]: x' = a x + b y + c, y' = d x + e y + f. */
// Written twice on purpose, as Point is: a tuple's z.infer is loose in the notebooks' compile.
export type Matrix = [[number, number, number], [number, number, number]];
const Row3 = z.tuple([z.number(), z.number(), z.number()]);
export const MatrixSchema = schemaFor<Matrix>()(z.tuple([Row3, Row3]));
