// Pictures of a swap for notebooks and reports: the photo before and after side by side, and per
// face the strip of stages (aligned face -> decoded as the other person -> mask -> colour-matched
// -> blended back), so a learner sees what each stage of the convert step does.

import { createCanvas, type Canvas } from 'canvas';
import type { FaceDetector } from '../faces/detector';
import { growBox } from '../faces/types';
import { cutBox, decodeImage, type RgbImage } from '../util/image';
import type { SwapModel } from '../swap/model';
import { DEFAULT_SHARPEN } from '../swap/sharpen';
import { swapFaces, swapImage, type SwapImageOptions } from '../swap/swap-image';
import type { FaceStages } from '../swap/swap-face';
import type { ColourBlendComparison } from '../lab/colour-blend';
import { showHtml } from './display';
import { imageGrid } from '../util/image-grid';

export const STAGE_CAPTIONS = ['aligned', 'decoded', 'mask', 'colour-matched', 'blended'] as const;

function drawRgb(canvas: Canvas, img: RgbImage, x: number, y: number, height: number): number {
  const src = createCanvas(img.width, img.height);
  const sctx = src.getContext('2d');
  const data = sctx.createImageData(img.width, img.height);
  for (let i = 0; i < img.width * img.height; i++) {
    data.data.set([img.data[i * 3], img.data[i * 3 + 1], img.data[i * 3 + 2], 255], i * 4);
  }
  sctx.putImageData(data, 0, 0);
  const w = Math.round((img.width * height) / img.height);
  canvas.getContext('2d').drawImage(src, x, y, w, height);
  return w;
}

/** Before and after, side by side at the same height, captioned; PNG bytes. */
export function beforeAfter(before: RgbImage, after: RgbImage, { height = 320 } = {}): Buffer {
  const caption = 16;
  const w1 = Math.round((before.width * height) / before.height), w2 = Math.round((after.width * height) / after.height);
  const canvas = createCanvas(w1 + w2 + 8, height + caption);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#111';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  drawRgb(canvas, before, 0, 0, height);
  drawRgb(canvas, after, w1 + 8, 0, height);
  ctx.font = '12px sans-serif';
  ctx.fillStyle = '#ddd';
  ctx.fillText('before', 4, height + 12);
  ctx.fillText('after (synthetic)', w1 + 12, height + 12);
  return canvas.toBuffer('image/png');
}

/** One row per face: aligned, decoded, mask, colour-matched, blended; PNG bytes. */
export function stageStrip(faces: readonly FaceStages[], { cell = 128 } = {}): Buffer {
  const images = faces.flatMap((f) => [f.aligned, f.decoded, f.mask, f.matched, f.blended]);
  return imageGrid(images, { columns: STAGE_CAPTIONS.length, cell, captions: faces.flatMap(() => [...STAGE_CAPTIONS]) });
}

export interface SwapPreview {
  before: RgbImage;
  after: RgbImage;
  stages: FaceStages[];
  /** PNG bytes of the two pictures. */
  sideBySide: Buffer;
  strip: Buffer | null;
}

/** Swap one photo in memory (nothing is written) and show before/after and the stage strip. */
export async function previewSwap(file: string, detector: FaceDetector, model: SwapModel, options: SwapImageOptions): Promise<SwapPreview> {
  const before = await decodeImage(file);
  const r = await swapImage(before, detector, model, { ...options, stages: true });
  const preview: SwapPreview = {
    before,
    after: r.image,
    stages: r.stages,
    sideBySide: beforeAfter(before, r.image),
    strip: r.stages.length ? stageStrip(r.stages) : null,
  };
  for (const png of [preview.sideBySide, preview.strip]) if (png) showHtml(`<img src="data:image/png;base64,${png.toString('base64')}">`);
  return preview;
}

/**
 * The same swap with each sharpening amount, cut from the finished photo around the first face,
 * beside the photo's own face. For a warping model with a detailed render, the amounts apply to its
 * 64 px output enlarged (what a painting decoder gives), and a last column shows the detailed
 * render the swap really uses (never sharpened: it has its photo's own edges). PNG bytes, or null
 * without a face.
 */
export async function sharpenComparison(image: RgbImage, detector: FaceDetector, model: SwapModel, options: Omit<SwapImageOptions, 'sharpen'>, amounts: readonly number[] = [0, 1, 2]): Promise<Buffer | null> {
  const faces = (await detector.detect(image)).slice(0, 1);
  if (faces.length === 0) return null;
  const region = growBox(faces[0].box, 0.2);
  const cuts = [cutBox(image, region)];
  const detailed = model.decodeDetailed ? model.detail ?? 1 : 1;
  const enlarged: SwapModel = { ...model, decodeDetailed: undefined, detail: 1 };
  for (const amount of amounts) cuts.push(cutBox((await swapFaces(image, faces, enlarged, { ...options, sharpen: { ...DEFAULT_SHARPEN, amount } })).image, region));
  if (detailed > 1) cuts.push(cutBox((await swapFaces(image, faces, model, options)).image, region));
  // At least the face's own size on screen: shrinking it would hide what sharpening changes.
  const cell = Math.min(320, Math.max(160, cuts[0].width));
  const captions = ['photo', ...amounts.map((a) => `sharpen ${a}${a === DEFAULT_SHARPEN.amount && detailed === 1 ? ' (default)' : ''}`)];
  if (detailed > 1) captions.push(`drawn at ${detailed}x (default)`);
  return imageGrid(cuts, { columns: cuts.length, cell, captions });
}

/**
 * One row per colour matcher: the photo's own face, the decoded face after colour matching, then
 * the blended result of each blender with its colour error (ΔE of the mean colour; lower is closer).
 */
export function colourBlendGrid(c: ColourBlendComparison, { cell = 128 } = {}): Buffer {
  const colours = [...new Set(c.cells.map((x) => x.colour))];
  const images: RgbImage[] = [], captions: string[] = [];
  for (const colour of colours) {
    const row = c.cells.filter((x) => x.colour === colour);
    images.push(c.original, row[0]!.stages.matched, ...row.map((x) => x.stages.blended));
    captions.push("photo's own face", `${colour}: matched`, ...row.map((x) => `${x.blend} · ΔE ${x.deltaE.toFixed(1)}`));
  }
  return imageGrid(images, { columns: 2 + c.cells.filter((x) => x.colour === colours[0]).length, cell, captions });
}
