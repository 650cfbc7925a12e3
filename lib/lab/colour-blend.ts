// Colour matching and blending side by side: one face of one photo swapped with every colour
// matcher and every blender, each result scored by how far its colour is from the photo's own
// face: the CIE Lab distance (ΔE, 1976) between the mean colours of the two inside the mask. A ΔE
// near 2 is barely visible; above 10 the pasted face reads as another light or another skin.

import { largestFirst, type FaceDetector } from '../faces/detector';
import type { DetectedFace } from '../faces/types';
import type { RgbImage } from '../util/image';
import { BLENDERS, type Blender } from '../swap/blend';
import { COLOUR_MATCHERS, type ColourMatcher } from '../swap/colour';
import { rgbToLab } from '../swap/cielab';
import type { SwapModel } from '../swap/model';
import { swapFaces, type SwapImageOptions } from '../swap/swap-image';
import type { FaceStages } from '../swap/swap-face';

export interface ColourBlendCell {
  colour: ColourMatcher;
  blend: Blender;
  /** ΔE between the mask-weighted mean Lab colours of the result and of the photo's own face. */
  deltaE: number;
  stages: FaceStages;
}

export interface ColourBlendComparison {
  /** The photo's own face, aligned as the model sees it. */
  original: RgbImage;
  cells: ColourBlendCell[];
}

/** Mask-weighted mean L*a*b* of an RGB image (bytes) under a grey mask image (bytes, any channel). */
export function meanLab(img: RgbImage, mask: RgbImage): [number, number, number] {
  const px = img.width * img.height;
  const rgb = new Float32Array(px * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = img.data[i]! / 255;
  const lab = rgbToLab(rgb);
  const mc = mask.data.length / px; // the mask picture may be grey RGB
  let w = 0;
  const sum = [0, 0, 0];
  for (let i = 0; i < px; i++) {
    const m = mask.data[i * mc]! / 255;
    w += m;
    for (let c = 0; c < 3; c++) sum[c] += m * lab[i * 3 + c]!;
  }
  return sum.map((s) => s / Math.max(w, 1e-9)) as [number, number, number];
}

/** ΔE 1976 between two Lab colours. */
export function deltaE(p: readonly number[], q: readonly number[]): number {
  return Math.hypot(p[0]! - q[0]!, p[1]! - q[1]!, p[2]! - q[2]!);
}

/**
 * Swap the first usable face of `image` with every colour matcher and blender. `faces`: the
 * detector's faces (or placed ones); the first that swaps is used.
 */
export async function compareColourBlend(
  image: RgbImage,
  faces: readonly DetectedFace[],
  model: SwapModel,
  options: Omit<SwapImageOptions, 'colour' | 'blend'>,
  { colours = [...COLOUR_MATCHERS], blenders = [...BLENDERS] }: { colours?: ColourMatcher[]; blenders?: Blender[] } = {},
): Promise<ColourBlendComparison> {
  const cells: ColourBlendCell[] = [];
  let original: RgbImage | null = null;
  for (const colour of colours)
    for (const blend of blenders) {
      const r = await swapFaces(image, faces, model, { ...options, colour, blend, stages: true });
      const stages = r.stages[0];
      if (!stages) throw new Error(`no face could be swapped (${r.skipped.join(', ') || 'no face found'})`);
      original ??= stages.aligned;
      cells.push({ colour, blend, deltaE: deltaE(meanLab(stages.blended, stages.mask), meanLab(stages.aligned, stages.mask)), stages });
    }
  return { original: original!, cells };
}

/** As compareColourBlend, on a photo file's first face the detector finds. */
export async function compareColourBlendOnPhoto(image: RgbImage, detector: FaceDetector, model: SwapModel, options: Omit<SwapImageOptions, 'colour' | 'blend'>): Promise<ColourBlendComparison> {
  // The largest face: the one a learner looks at.
  return compareColourBlend(image, largestFirst(await detector.detect(image)).slice(0, 1), model, options);
}
