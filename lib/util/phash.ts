// Perceptual hash for near-duplicate detection: the same photo re-encoded, resized or recompressed
// under another URL. DCT hash ("pHash"): grey 32x32, keep the 8x8 lowest frequencies, one bit per
// coefficient above their median. Measured on the 536 LFW photos: re-encodes (JPEG q40, WebP at
// 180 px, PNG at 400 px) stay within 4 bits, while distinct photos are 2-6 bits apart only for real
// near-copies of one shot (and 8+ otherwise); re-measured after the grey moved behind the scaling
// (below), with the same result. A difference hash (dHash) drifted up to 14 bits on the same
// re-encodes, so it was not used.

import sharp from 'sharp';
import type { RgbImage } from './image';

const N = 32;
const K = 8;
/** Bits at or below this Hamming distance count as the same photo. */
export const NEAR_DUPLICATE_BITS = 5;

// cos((2n + 1) k pi / 2N) for the K kept frequencies.
const COS: Float64Array[] = Array.from({ length: K }, (_, k) => Float64Array.from({ length: N }, (_, n) => Math.cos(((2 * n + 1) * k * Math.PI) / (2 * N))));

/** 64-bit perceptual hash of decoded RGB pixels, as 16 hex digits. */
export async function perceptualHash(img: RgbImage): Promise<string> {
  // Scaled to 32x32 first, then grey: libvips's grey goes through linear light in floats, which
  // took 14 of the 16 ms a 1920 px photo's hash cost (and ran beside extraction's nets on every
  // photo); on 32x32 pixels it is nothing. The other order gave the same hash on 511 of 542 photos
  // (LFW pair and demo), 2 bits apart on 30, 4 on one, and the same near-duplicate pairs.
  const small = await sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), {
    raw: { width: img.width, height: img.height, channels: 3 },
  })
    .resize(N, N, { fit: 'fill' })
    .raw()
    .toBuffer();
  const grey = await sharp(small, { raw: { width: N, height: N, channels: 3 } })
    .greyscale()
    .raw()
    .toBuffer();
  // Separable 2-D DCT, only the K x K low-frequency corner.
  const rows = Array.from({ length: N }, (_, y) => Float64Array.from({ length: K }, (_, k) => {
    let s = 0;
    for (let x = 0; x < N; x++) s += grey[y * N + x] * COS[k][x];
    return s;
  }));
  const coeffs: number[] = [];
  for (let ky = 0; ky < K; ky++)
    for (let kx = 0; kx < K; kx++) {
      let s = 0;
      for (let y = 0; y < N; y++) s += rows[y][kx] * COS[ky][y];
      coeffs.push(s);
    }
  // The median leaves out the DC term (overall brightness), which would skew it.
  const median = coeffs.slice(1).sort((a, b) => a - b)[(coeffs.length - 1) >> 1];
  let hex = '';
  for (let i = 0; i < coeffs.length; i += 4) {
    let nibble = 0;
    for (let j = 0; j < 4; j++) nibble = (nibble << 1) | (coeffs[i + j] > median ? 1 : 0);
    hex += nibble.toString(16);
  }
  return hex;
}

/** Number of differing bits between two hashes of equal length. */
export function hammingDistance(a: string, b: string): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    let x = parseInt(a[i], 16) ^ parseInt(b[i], 16);
    while (x) {
      d += x & 1;
      x >>= 1;
    }
  }
  return d + Math.abs(a.length - b.length) * 4;
}
