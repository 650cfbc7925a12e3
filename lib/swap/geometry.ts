// Where a face sits in each of the swap's coordinate frames, as photo -> frame matrices:
//
//   photo --alignmentMatrix--> aligned crop (extraction's size and margin)
//         --centre square----> "square": the cropFraction x size centre of the crop, crop pixels
//         --scale------------> model input (inputSize pixels)
//
// The model only ever sees the square, so the decoded face covers only the square; the mask is
// drawn in the square's frame at crop resolution (feather and erosion measured in crop pixels,
// the same for every face size) and pasted back with the inverse of the square's matrix.

import { applyMatrixAll, composeMatrix, invertMatrix } from '../faces/align';
import { alignmentMatrix, type CropGeometry } from '../faces/template';
import type { Box, Matrix, Point } from '../faces/types';

export interface FaceFrame {
  /** Photo -> aligned crop. */
  crop: Matrix;
  /** Photo -> centre square (crop pixels, origin at the square's corner). */
  square: Matrix;
  /** Photo -> model input pixels. */
  model: Matrix;
  /** Side of the centre square in crop pixels. */
  side: number;
  /** The square's top-left corner in the crop. */
  offset: number;
}

/** The centred square of a `size` crop, exactly as training cuts it (lib/data/face-set.ts). */
export function centreSquare(size: number, cropFraction: number): { side: number; offset: number } {
  const side = Math.max(1, Math.round(size * cropFraction));
  return { side, offset: Math.floor((size - side) / 2) };
}

const translate = (dx: number, dy: number): Matrix => [[1, 0, dx], [0, 1, dy]];
const scale = (k: number): Matrix => [[k, 0, 0], [0, k, 0]];

export function faceFrame(landmarks: readonly Point[], geometry: CropGeometry, cropFraction: number, inputSize: number): FaceFrame {
  const crop = alignmentMatrix(landmarks, geometry);
  const { side, offset } = centreSquare(geometry.size, cropFraction);
  const square = composeMatrix(translate(-offset, -offset), crop);
  return { crop, square, model: composeMatrix(scale(inputSize / side), square), side, offset };
}

/** Photo -> the model frame drawn `k` times larger (a warping decoder's detailed render). */
export function modelFrameAt(frame: FaceFrame, k: number): Matrix {
  return k === 1 ? frame.model : composeMatrix(scale(k), frame.model);
}

/** Model-input pixels per photo pixel: the scale of the photo -> model matrix (below 1 when the face is enlarged to paste). */
export function modelScale(frame: FaceFrame): number {
  const m = frame.model;
  return Math.sqrt(Math.abs(m[0][0] * m[1][1] - m[0][1] * m[1][0]));
}

/** The whole-pixel box of the photo that the square covers, clipped to the photo; null if none. */
export function squareBox(frame: FaceFrame, width: number, height: number): Box | null {
  const s = frame.side;
  const corners = applyMatrixAll(invertMatrix(frame.square), [[0, 0], [s, 0], [0, s], [s, s]]);
  const x0 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p[0]))));
  const y0 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p[1]))));
  const x1 = Math.min(width, Math.ceil(Math.max(...corners.map((p) => p[0]))));
  const y1 = Math.min(height, Math.ceil(Math.max(...corners.map((p) => p[1]))));
  return x1 > x0 && y1 > y0 ? { x: x0, y: y0, width: x1 - x0, height: y1 - y0 } : null;
}
