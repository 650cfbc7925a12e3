// Watching faces emerge: training writes a preview grid of the same held-out faces every few
// steps (previews/step-NNNNNNNN.png, kept across resumed runs), and the timelapse strings them into
// one animation with the step written on each frame. sharp writes the animated GIF or WebP.

import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { createCanvas, loadImage } from 'canvas';
import { writeFileAtomic } from '../util/fsutil';
import { previewFrames } from '../train/preview';

export type TimelapseFormat = 'gif' | 'webp';

export interface TimelapseOptions {
  /** Default 'gif' (plays everywhere); 'webp' is several times smaller. */
  format?: TimelapseFormat;
  /** Default <model>/previews/timelapse.<format>. */
  file?: string;
  /** At most this many frames, picked evenly over the steps (the first and last always). Default 80. */
  maxFrames?: number;
  /** Milliseconds per frame; the last one is held 2 s so the result can be looked at. Default 200. */
  frameMs?: number;
  /** Enlarge the grids this many times: 64 px faces are hard to judge. Default 2. */
  scale?: number;
}

export interface Timelapse {
  file: string;
  format: TimelapseFormat;
  frames: number;
  /** The training step of each frame. */
  steps: number[];
  width: number;
  /** Of one frame. */
  height: number;
}

/** `n` of `items` spread evenly, the first and the last included. */
export function evenly<T>(items: readonly T[], n: number): T[] {
  if (items.length <= n) return [...items];
  if (n <= 1) return [items[items.length - 1]!];
  return Array.from({ length: n }, (_, i) => items[Math.round((i * (items.length - 1)) / (n - 1))]!);
}

const BAR = 18;

/** One frame: the grid under a bar naming the step, at the size of the newest grid. */
async function frame(file: string, step: number, width: number, gridHeight: number): Promise<Buffer> {
  const img = await loadImage(await fs.promises.readFile(file));
  const canvas = createCanvas(width, gridHeight + BAR);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#111';
  ctx.fillRect(0, 0, width, BAR);
  ctx.fillStyle = '#eee';
  ctx.font = '12px sans-serif';
  ctx.fillText(`step ${step.toLocaleString('en')}`, 6, 13);
  ctx.drawImage(img, 0, BAR, width, gridHeight);
  return canvas.toBuffer('image/png');
}

/**
 * Assemble the kept previews into an animation; null when there are fewer than two (one frame is
 * nothing to animate, and sharp cannot join fewer than two images).
 */
export async function writeTimelapse(modelDir: string, options: TimelapseOptions = {}): Promise<Timelapse | null> {
  const { format = 'gif', maxFrames = 80, frameMs = 200, scale = 2 } = options;
  const all = previewFrames(modelDir);
  if (all.length < 2) return null;
  const picked = evenly(all, Math.max(2, maxFrames));
  // Every frame at the newest grid's size (an older run may have previewed at another size).
  const newest = await sharp(picked[picked.length - 1]!.file).metadata();
  const [width, height] = [Math.round((newest.width ?? 0) * scale), Math.round((newest.height ?? 0) * scale)];
  const frames: Buffer[] = [];
  for (const p of picked) frames.push(await frame(p.file, p.step, width, height));
  const delay = picked.map((_, i) => (i === picked.length - 1 ? 2000 : frameMs));
  const joined = sharp(frames, { join: { animated: true } });
  const bytes = format === 'gif' ? await joined.gif({ delay, loop: 0 }).toBuffer() : await joined.webp({ delay, loop: 0, quality: 85 }).toBuffer();
  const file = options.file ?? path.join(modelDir, 'previews', `timelapse.${format}`);
  await writeFileAtomic(file, bytes);
  return { file, format, frames: picked.length, steps: picked.map((p) => p.step), width, height: height + BAR };
}
