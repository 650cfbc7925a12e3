// The face mask: which pixels of an aligned crop belong to the face. The convex hull of the jaw
// and brows (optionally raised to cover the forehead), eroded, then feathered so that a swap
// blends in gradually instead of ending at a hard edge.

import convexHull from 'monotone-convex-hull-2d';
import { createCanvas } from 'canvas';
import sharp from 'sharp';
import type { Point } from './types';

export interface MaskOptions {
  /** Raise the brow points by this fraction of the brow-to-chin height to cover the forehead. 0: off. */
  forehead?: number;
  /** Shrink the hull by this many pixels before feathering (keeps the blend inside the face). */
  erode?: number;
  /** Width of the soft edge in pixels (Gaussian blur sigma = feather / 2). 0: hard edge. */
  feather?: number;
}

export const DEFAULT_MASK: Required<MaskOptions> = { forehead: 0.2, erode: 0, feather: 8 };

/** Outline points of the mask polygon: the jaw (0-16) and the brows (17-26), brows raised. */
export function maskOutline(landmarks: readonly Point[], forehead = DEFAULT_MASK.forehead): Point[] {
  const jaw = landmarks.slice(0, 17);
  const brows = landmarks.slice(17, 27);
  const chin = landmarks[8];
  const browMid: Point = [(landmarks[19][0] + landmarks[24][0]) / 2, (landmarks[19][1] + landmarks[24][1]) / 2];
  // Raise along the chin -> brow direction, so a tilted face gets a tilted forehead.
  const up: Point = [(browMid[0] - chin[0]) * forehead, (browMid[1] - chin[1]) * forehead];
  const raised = brows.map(([x, y]): Point => [x + up[0], y + up[1]]);
  const points = [...jaw, ...brows, ...raised];
  return convexHull(points).map((i) => points[i]);
}

/** A width x height mask in [0, 1], one float per pixel, row-major. */
export async function faceMask(landmarks: readonly Point[], width: number, height = width, options: MaskOptions = {}): Promise<Float32Array> {
  const { forehead, erode, feather } = { ...DEFAULT_MASK, ...options };
  return rasterise([maskOutline(landmarks, forehead)], width, height, erode, feather);
}

/** The convex hull of some landmarks, scaled about its centre by `grow`. */
function grownHull(points: readonly Point[], grow: number): Point[] {
  const hull = convexHull(points as Point[]).map((i) => points[i]);
  const cx = hull.reduce((s, p) => s + p[0], 0) / hull.length, cy = hull.reduce((s, p) => s + p[1], 0) / hull.length;
  return hull.map(([x, y]): Point => [cx + (x - cx) * grow, cy + (y - cy) * grow]);
}

/**
 * Soft masks of the eyes (grown to take in the lids) and of the mouth (lips included), from the 68
 * landmarks: the regions faceswap and DeepFaceLab weight higher in the loss, because a face is
 * recognised by them and a blur there costs the most. Each width x height, in [0, 1].
 */
export async function featureMasks(landmarks: readonly Point[], width: number, height = width, feather = 2): Promise<{ eyes: Float32Array; mouth: Float32Array }> {
  const eyes = [grownHull(landmarks.slice(36, 42), 1.8), grownHull(landmarks.slice(42, 48), 1.8)];
  const mouth = [grownHull(landmarks.slice(48, 60), 1.25)];
  return { eyes: await rasterise(eyes, width, height, 0, feather), mouth: await rasterise(mouth, width, height, 0, feather) };
}

/** Polygons filled white on black, eroded by `erode` pixels, blurred over `feather` pixels. */
async function rasterise(polygons: readonly Point[][], width: number, height: number, erode: number, feather: number): Promise<Float32Array> {
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = '#fff';
  for (const outline of polygons) {
    ctx.beginPath();
    outline.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
    ctx.closePath();
    ctx.fill();
    if (erode > 0) {
      // Eroding a convex polygon = drawing its outline in black with twice the width.
      ctx.strokeStyle = '#000';
      ctx.lineWidth = erode * 2;
      ctx.lineJoin = 'round';
      ctx.stroke();
    }
  }
  const rgba = ctx.getImageData(0, 0, width, height).data;
  let grey: Buffer = Buffer.alloc(width * height);
  for (let i = 0; i < width * height; i++) grey[i] = rgba[i * 4];
  if (feather > 0) {
    // sharp refuses sigmas below 0.3.
    // b-w: sharp writes sRGB (3 channels) by default, which read as one channel is garbage.
    grey = await sharp(grey, { raw: { width, height, channels: 1 } }).blur(Math.max(0.3, feather / 2)).toColourspace('b-w').raw().toBuffer();
  }
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = grey[i] / 255;
  return out;
}
