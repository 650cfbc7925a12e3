// Blending the pasted face into the photo. Feathered alpha: out = photo (1 - a) + face a, with
// the soft mask as a. Pixels where a is 0 are copied, never recomputed, so everything outside the
// mask stays bit-identical to the input.

import type { Box } from '../faces/types';
import type { RgbImage } from '../util/image';

export const BLENDERS = ['alpha', 'poisson'] as const;
export type Blender = (typeof BLENDERS)[number];

export function isBlender(s: string): s is Blender {
  return (BLENDERS as readonly string[]).includes(s);
}

/** Blend `face` (box-sized interleaved RGB in [0, 1]) into `photo` (changed in place) with `alpha`. */
export function alphaBlend(photo: RgbImage, box: Box, face: Float32Array, alpha: Float32Array): void {
  for (let y = 0; y < box.height; y++)
    for (let x = 0; x < box.width; x++) {
      const i = y * box.width + x;
      const a = alpha[i];
      if (!(a > 0)) continue;
      const p = ((box.y + y) * photo.width + box.x + x) * 3;
      for (let c = 0; c < 3; c++) {
        const v = photo.data[p + c] + (face[i * 3 + c] * 255 - photo.data[p + c]) * Math.min(1, a);
        photo.data[p + c] = Math.min(255, Math.max(0, Math.round(v)));
      }
    }
}
