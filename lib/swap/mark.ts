// The optional visible mark: a small "SYNTHETIC" label in the bottom-right corner, for outputs
// that will be seen without their metadata (screenshots strip it). Off by default because it
// changes pixels outside the face.

import { createCanvas } from 'canvas';
import type { RgbImage } from '../util/image';

export const MARK_TEXT = 'SYNTHETIC · face swap';

/** Draw the mark into `img` in place. */
export function drawMark(img: RgbImage, text = MARK_TEXT): void {
  const font = Math.max(9, Math.round(Math.min(img.width, img.height) / 28));
  const probe = createCanvas(1, 1).getContext('2d');
  probe.font = `bold ${font}px sans-serif`;
  const w = Math.min(img.width, Math.ceil(probe.measureText(text).width) + font);
  const h = Math.min(img.height, Math.round(font * 1.6));
  const x0 = img.width - w, y0 = img.height - h;
  // Only the corner goes through a canvas: cheap on large photos.
  const canvas = createCanvas(w, h);
  const ctx = canvas.getContext('2d');
  const corner = ctx.createImageData(w, h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const p = ((y0 + y) * img.width + x0 + x) * 3, q = (y * w + x) * 4;
      corner.data[q] = img.data[p];
      corner.data[q + 1] = img.data[p + 1];
      corner.data[q + 2] = img.data[p + 2];
      corner.data[q + 3] = 255;
    }
  ctx.putImageData(corner, 0, 0);
  ctx.fillStyle = 'rgba(0, 0, 0, 0.6)';
  ctx.fillRect(0, 0, w, h);
  ctx.fillStyle = '#fff';
  ctx.font = `bold ${font}px sans-serif`;
  ctx.textBaseline = 'middle';
  ctx.fillText(text, font / 2, h / 2);
  const out = ctx.getImageData(0, 0, w, h).data;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const p = ((y0 + y) * img.width + x0 + x) * 3, q = (y * w + x) * 4;
      img.data[p] = out[q];
      img.data[p + 1] = out[q + 1];
      img.data[p + 2] = out[q + 2];
    }
}
