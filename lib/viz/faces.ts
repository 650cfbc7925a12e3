// Pictures of face extraction for notebooks and reports: a photo with its detections drawn on it,
// and grids of face crops with captions (kept faces, and rejected ones with the reason).

import * as fs from 'fs';
import * as path from 'path';
import type { CanvasRenderingContext2D } from 'canvas';
import { decodeImage, type RgbImage } from '../util/image';
import { imageGrid, toCanvasImage } from '../util/image-grid';
import { readAlignments, ALIGNMENTS_FILE } from '../faces/alignments';
import type { Box, Point } from '../faces/types';

export interface Annotation {
  box: Box;
  landmarks?: readonly Point[];
  /** Text above the box (score, reason...). */
  label?: string;
  /** Kept faces are drawn in green, rejected ones in red. */
  kept?: boolean;
}

const GREEN = '#22c55e';
const RED = '#ef4444';


function label(ctx: CanvasRenderingContext2D, text: string, x: number, y: number, colour: string, size: number): void {
  ctx.font = `${size}px sans-serif`;
  const w = ctx.measureText(text).width + 6;
  ctx.fillStyle = colour;
  ctx.fillRect(x, y - size - 4, w, size + 4);
  ctx.fillStyle = '#fff';
  ctx.fillText(text, x + 3, y - 4);
}

/** The photo with each face's box, landmarks and label drawn on it, as PNG bytes. */
export function annotatePhoto(img: RgbImage, faces: readonly Annotation[]): Buffer {
  const canvas = toCanvasImage(img);
  const ctx = canvas.getContext('2d');
  const unit = Math.max(1, Math.round(Math.max(img.width, img.height) / 400));
  for (const f of faces) {
    const colour = f.kept === false ? RED : GREEN;
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2 * unit;
    ctx.strokeRect(f.box.x, f.box.y, f.box.width, f.box.height);
    ctx.fillStyle = colour;
    for (const [x, y] of f.landmarks ?? []) {
      ctx.beginPath();
      ctx.arc(x, y, 1.5 * unit, 0, 2 * Math.PI);
      ctx.fill();
    }
    if (f.label) label(ctx, f.label, f.box.x, Math.max(14 * unit, f.box.y), colour, 10 * unit);
  }
  return canvas.toBuffer('image/png');
}


export interface ExtractionGallery {
  /** Crops that were kept. */
  kept: Buffer;
  /** Rejected crops, captioned with the reason (faces rejected before alignment have no crop). */
  rejected: Buffer | null;
  keptCount: number;
  rejectedCount: number;
}

/** Grids of an extraction's kept and rejected crops, read from its faces folder. */
export async function extractionGallery(facesDir: string, { limit = 32, cell = 96, columns = 8 } = {}): Promise<ExtractionGallery> {
  const a = readAlignments(path.join(facesDir, ALIGNMENTS_FILE));
  if (!a) throw new Error(`${facesDir}: no ${ALIGNMENTS_FILE} (run extraction first)`);
  const faces = a.images.flatMap((img) => img.faces).filter((f) => f.file && fs.existsSync(path.join(facesDir, f.file)));
  const kept = faces.filter((f) => !f.rejected);
  const rejected = faces.filter((f) => f.rejected);
  const load = (list: typeof faces) => Promise.all(list.slice(0, limit).map((f) => decodeImage(path.join(facesDir, f.file!), { minSide: 1 })));
  const keptImages = await load(kept);
  const rejectedImages = await load(rejected);
  return {
    kept: imageGrid(keptImages, { cell, columns }),
    rejected: rejectedImages.length ? imageGrid(rejectedImages, { cell, columns, captions: rejected.slice(0, limit).map((f) => f.rejected!) }) : null,
    keptCount: kept.length,
    rejectedCount: rejected.length,
  };
}
