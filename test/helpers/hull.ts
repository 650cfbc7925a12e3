// The face-mask outline (lib/faces/mask.ts) drawn in photo pixels, grown or shrunk: the region a
// swap may change, to check that nothing outside it did.
import { createCanvas } from 'canvas';
import { maskOutline } from '../../lib/faces/mask';
import type { Point } from '../../lib/faces/types';

/** 1 where a pixel is inside the outline dilated (or, for negative `by`, eroded) by `by` pixels. */
export function dilatedHull(landmarks: readonly Point[], forehead: number, by: number, w: number, h: number): Uint8Array {
  const ctx = createCanvas(w, h).getContext('2d');
  ctx.fillStyle = '#fff';
  // Eroding: the outline drawn in black.
  ctx.strokeStyle = by >= 0 ? '#fff' : '#000';
  ctx.lineWidth = 2 * Math.abs(by);
  ctx.lineJoin = 'round';
  ctx.beginPath();
  maskOutline(landmarks, forehead).forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
  ctx.closePath();
  ctx.fill();
  if (by !== 0) ctx.stroke();
  const rgba = ctx.getImageData(0, 0, w, h).data;
  return Uint8Array.from({ length: w * h }, (_, i) => (rgba[i * 4] > 0 ? 1 : 0));
}
