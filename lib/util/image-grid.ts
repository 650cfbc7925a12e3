// Images side by side on one canvas: the grids that notebooks show and benchmarks write.

import { createCanvas } from 'canvas';
import type { RgbImage } from './image';

/** An RGB image on a canvas of its own size (for drawing it scaled, or drawing over it). */
export function toCanvasImage(img: RgbImage) {
  const canvas = createCanvas(img.width, img.height);
  const ctx = canvas.getContext('2d');
  const data = ctx.createImageData(img.width, img.height);
  for (let i = 0, j = 0; i < img.width * img.height; i++, j += 3) {
    data.data[i * 4] = img.data[j];
    data.data[i * 4 + 1] = img.data[j + 1];
    data.data[i * 4 + 2] = img.data[j + 2];
    data.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(data, 0, 0);
  return canvas;
}

export interface GridOptions {
  columns?: number;
  /** Side of each cell in pixels. */
  cell?: number;
  /** One caption per image, drawn under it. */
  captions?: readonly string[];
}

/** Images side by side in rows, each scaled to a square cell, with optional captions; PNG bytes. */
export function imageGrid(images: readonly RgbImage[], { columns = 8, cell = 96, captions }: GridOptions = {}): Buffer {
  const cols = Math.max(1, Math.min(columns, images.length));
  const rows = Math.max(1, Math.ceil(images.length / cols));
  const captionHeight = captions ? 14 : 0;
  const canvas = createCanvas(cols * cell, rows * (cell + captionHeight));
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#111';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  images.forEach((img, i) => {
    const x = (i % cols) * cell, y = Math.floor(i / cols) * (cell + captionHeight);
    ctx.drawImage(toCanvasImage(img), x, y, cell, cell);
    if (captions?.[i]) {
      ctx.font = '10px sans-serif';
      ctx.fillStyle = '#ddd';
      ctx.fillText(captions[i].slice(0, Math.floor(cell / 5.5)), x + 2, y + cell + 11);
    }
  });
  return canvas.toBuffer('image/png');
}
