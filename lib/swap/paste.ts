// Pasting back: sample a face-frame image (the decoded face, the mask) at every pixel of the
// photo box the face covers, through the inverse of the alignment. Only the box is resampled, so
// the cost follows the face's size, not the photo's.

import * as tf from '@tensorflow/tfjs';
import { applyMatrix, composeMatrix, invertMatrix } from '../faces/align';
import type { Box, Matrix } from '../faces/types';
import { warpAffine } from '../faces/resample';
import type { FaceFrame } from './geometry';

/** [box.height, box.width, c]: `image` (in the frame that `photoToImage` maps photo points to) at each box pixel. */
export function sampleInBox(image: tf.Tensor3D, photoToImage: Matrix, box: Box): tf.Tensor3D {
  // warpAffine's output point q shows input point m^-1(q); q is box-relative here.
  const boxToImage = composeMatrix(photoToImage, [[1, 0, box.x], [0, 1, box.y]]);
  return warpAffine(image, invertMatrix(boxToImage), box.width, box.height);
}

/**
 * 1 for box pixels whose centre lies inside the centre square, else 0. warpAffine mirrors the
 * image beyond its border; outside the square there is no decoded face, so nothing may come from there.
 */
export function squareSupport(frame: FaceFrame, box: Box): Uint8Array {
  const out = new Uint8Array(box.width * box.height);
  for (let y = 0; y < box.height; y++)
    for (let x = 0; x < box.width; x++) {
      const [u, v] = applyMatrix(frame.square, [box.x + x + 0.5, box.y + y + 0.5]);
      out[y * box.width + x] = u >= 0 && v >= 0 && u <= frame.side && v <= frame.side ? 1 : 0;
    }
  return out;
}
