// Measurements the extraction filters on: sharpness and head turn. (Duplicates: lib/util/phash.ts.)

import sharp from 'sharp';
import type { RgbImage } from '../util/image';
import type { Point } from './types';

/** Grey pixels of an image resized to size x size (sharp, Lanczos). */
async function greyResized(img: RgbImage, size: number): Promise<Uint8Array> {
  const buf = await sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(size, size, { fit: 'fill' })
    .greyscale()
    .raw()
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

/**
 * Sharpness: variance of the Laplacian of the grey crop at 128x128, over its central half
 * (the face; the border is background). Blurred or upscaled-from-tiny faces score low.
 */
export async function sharpness(crop: RgbImage): Promise<number> {
  const n = 128;
  const g = await greyResized(crop, n);
  const lo = n / 4, hi = (3 * n) / 4;
  let sum = 0, sumSq = 0, count = 0;
  for (let y = lo; y < hi; y++) {
    for (let x = lo; x < hi; x++) {
      const i = y * n + x;
      const lap = g[i - 1] + g[i + 1] + g[i - n] + g[i + n] - 4 * g[i];
      sum += lap;
      sumSq += lap * lap;
      count++;
    }
  }
  const mean = sum / count;
  return sumSq / count - mean * mean;
}

/**
 * Head turn (yaw) in degrees, roughly, from 2D landmarks: the imbalance between the nose tip's (30)
 * distances to the two cheek points at nose height (2 and 14). Frontal: equal (0 degrees); in
 * profile the near cheek's distance collapses (ratio 1, 90 degrees); asin maps the ratio between.
 * On face-api's demo photos, three-quarter views measure 25 to 40 degrees.
 */
export function estimateYaw(landmarks: readonly Point[]): number {
  const [l, r, nose] = [landmarks[2], landmarks[14], landmarks[30]];
  const dl = Math.hypot(nose[0] - l[0], nose[1] - l[1]);
  const dr = Math.hypot(nose[0] - r[0], nose[1] - r[1]);
  const ratio = Math.max(-1, Math.min(1, (dl - dr) / Math.max(1e-6, dl + dr)));
  return (Math.asin(ratio) * 180) / Math.PI;
}
