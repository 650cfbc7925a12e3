// Where each pixel of a training face lies in its person's texture (lib/model/decoders/warping-layers.ts), from
// the two faces' landmarks: the 68 points say where the eyes, brows, nose, mouth and jaw of one
// face are in the other, and between them the map is piecewise affine over a Delaunay
// triangulation (the face rig's own warp, lib/geometry/piecewise-affine.ts). It is drawn by warping an
// image whose pixels hold their own coordinates: bilinear sampling of a linear ramp is exact.
// Outside the landmarks' hull the map is a guess (eight frame points stay put), so the loss counts
// it at a fifth of the face's weight (face-maps.ts coordinateWeights).

import * as tf from '@tensorflow/tfjs';
import type { Point } from '../../faces/types';
import { piecewiseWarp } from '../../geometry/piecewise-affine';
import { triangulate } from '../../geometry/triangulate';

/** Frame points held in place, so the triangles cover the whole image (corners and edge centres). */
function framePoints(side: number): Point[] {
  const e = side, h = side / 2;
  return [[0, 0], [h, 0], [e, 0], [e, h], [e, e], [h, e], [0, e], [0, h]];
}

/** A t x t float image whose pixel (x, y) holds x, y and 0. */
function coordinateImage(t: number): { data: Float32Array; width: number; height: number } {
  const data = new Float32Array(t * t * 3);
  for (let y = 0, i = 0; y < t; y++) for (let x = 0; x < t; x++, i += 3) (data[i] = x), (data[i + 1] = y);
  return { data, width: t, height: t };
}

/**
 * Texture coordinates of every pixel of a size x size face: u (x) and v (y) in texture pixels
 * (pixel centres at integers, as warp-face.ts reads them), size*size each. `face` and `texture`
 * are the landmarks of the face (its pixels) and of the texture (texture pixels, side textureSize).
 */
export function textureCoordinates(face: readonly Point[], texture: readonly Point[], size: number, textureSize: number): { u: Float32Array; v: Float32Array } {
  if (face.length !== texture.length) throw new Error(`${face.length} face landmarks against ${texture.length} of the texture`);
  const k = textureSize / size;
  const dst: Point[] = [...face, ...framePoints(size)];
  const src: Point[] = [...texture, ...framePoints(size).map(([x, y]): Point => [x * k, y * k])];
  const warped = piecewiseWarp(coordinateImage(textureSize), src, dst, triangulate(dst), size, size);
  const u = new Float32Array(size * size), v = new Float32Array(size * size);
  for (let i = 0; i < u.length; i++) (u[i] = warped.data[3 * i]), (v[i] = warped.data[3 * i + 1]);
  return { u, v };
}

/**
 * textureCoordinates for several faces at once, as the [n, size, size, 2] tensor of (x, y) pairs a
 * warping decoder's texture is read at (readTexture in warp-face.ts).
 */
export function coordinateTensor(faces: ReadonlyArray<readonly Point[]>, texture: readonly Point[], size: number, textureSize: number): tf.Tensor4D {
  const data = new Float32Array(faces.length * size * size * 2);
  faces.forEach((face, i) => {
    const { u, v } = textureCoordinates(face, texture, size, textureSize);
    for (let p = 0; p < size * size; p++) (data[(i * size * size + p) * 2] = u[p]), (data[(i * size * size + p) * 2 + 1] = v[p]);
  });
  return tf.tensor4d(data, [faces.length, size, size, 2]);
}
