// Sharpening the enlarged face before it is blended (faceswap's "sharpen" scaling adjustment,
// DeepFaceLab's blur/sharpen amount). The decoder paints 64 px; pasted over a face 200 px wide,
// bilinear enlargement spreads each decoded pixel over three photo pixels and the eyes, brows and
// lips it did paint lose their edges. An unsharp mask at the scale of one decoded pixel gives that
// contrast back. It adds no detail the decoder did not paint, and it sharpens the decoder's
// artefacts as much as its features: the amount is a setting, measured in docs/recipes.md ("Sharpening").
//
// libvips (through sharp) does the work: its sharpen filters lightness only, so colours do not
// fringe, and caps how far a pixel may brighten or darken, so edges get no bright halos.

import sharp from 'sharp';

export interface SharpenOptions {
  /** Strength of the unsharp mask (0: off; 1 adds the detail once more). */
  amount: number;
  /** Radius of its blur in decoded pixels (converted to photo pixels with the enlargement). */
  radius: number;
}

// Measured with bench/sharpen.ts on the default recipe after 1400 steps (docs/recipes.md, "Sharpening"):
// amount 1 takes the face's sharpness in the photo from 0.02 / 0.07 of the true photo's to 0.08 /
// 0.21 (A->B / B->A), about what a perfect 64 px face would give (0.09 / 0.11), at a cost of 0.005
// in lightness SSIM against the truth; eyes, brows and lips get their edges back. From 2 on the
// decoder's blotches show.
export const DEFAULT_SHARPEN: SharpenOptions = { amount: 1, radius: 1 };

/**
 * `face`: interleaved RGB in [0, 1], `width` x `height` photo pixels, enlarged `scale` photo
 * pixels per decoded pixel. Returns a new array (the same one when the amount is 0).
 */
export async function sharpenFace(face: Float32Array, width: number, height: number, scale: number, options: SharpenOptions): Promise<Float32Array> {
  if (!(options.amount > 0) || width < 3 || height < 3) return face;
  const bytes = Buffer.alloc(face.length);
  for (let i = 0; i < face.length; i++) bytes[i] = Math.min(255, Math.max(0, Math.round(face[i] * 255)));
  // sigma within what sharp accepts (at most 10; below 0.3 the blur is too small to mean
  // anything). m1 and m2 the same: a plain unsharp mask, not libvips' default of sharpening edges
  // twice as hard as flat skin.
  const sigma = Math.min(10, Math.max(0.3, options.radius * scale));
  const out = await sharp(bytes, { raw: { width, height, channels: 3 } })
    .sharpen({ sigma, m1: options.amount, m2: options.amount })
    .raw()
    .toBuffer();
  const result = new Float32Array(face.length);
  for (let i = 0; i < result.length; i++) result[i] = out[i] / 255;
  return result;
}
