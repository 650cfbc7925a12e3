// Showing things in a notebook. Inside the tslab kernel these send rich output to the cell;
// elsewhere (the CLI, tests) they do nothing, so library code can call them freely. The builders
// (PNG bytes, HTML strings) are separate so they can be tested outside Jupyter.

import * as tf from '@tensorflow/tfjs';
import { encodeImage, tensorToImage, type RgbImage } from '../util/image';

// tslab's display throws "Not ready" outside its kernel; load it lazily so importing this file
// never needs tslab to be running.
type TslabDisplay = { png(b: Uint8Array): void; html(s: string): void };
type Tslab = { display: TslabDisplay; newDisplay(): TslabDisplay };
function tslab(): Tslab | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('tslab') as Tslab;
  } catch {
    return null;
  }
}
function tslabDisplay(): TslabDisplay | null {
  return tslab()?.display ?? null;
}

function send(fn: (d: TslabDisplay) => void, d: TslabDisplay | null = tslabDisplay()): boolean {
  if (!d) return false;
  try {
    fn(d);
    return true;
  } catch {
    return false; // not inside the kernel
  }
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A plain HTML table from rows of cells; the first row is the header. */
export function htmlTable(rows: Array<Array<string | number | boolean | null>>): string {
  const [head, ...body] = rows;
  const cell = (tag: string, v: unknown) => `<${tag} style="text-align:left;padding:2px 10px">${escapeHtml(String(v ?? '—'))}</${tag}>`;
  return [
    '<table>',
    `<thead><tr>${head.map((v) => cell('th', v)).join('')}</tr></thead>`,
    `<tbody>${body.map((r) => `<tr>${r.map((v) => cell('td', v)).join('')}</tr>`).join('')}</tbody>`,
    '</table>',
  ].join('');
}

export function showHtml(html: string): boolean {
  return send((d) => d.html(html));
}

/**
 * Show an image (RGB pixels or a [h, w, 3] tensor in [0, 1]) and return the PNG bytes shown.
 * Wider images are scaled down to maxWidth so notebooks stay small.
 */
export async function showImage(image: RgbImage | tf.Tensor3D, { maxWidth = 1280 } = {}): Promise<Buffer> {
  const rgb = image instanceof tf.Tensor ? await tensorToImage(image) : image;
  const png = await encodeImage(rgb, 'png', { maxWidth });
  send((d) => d.png(png));
  return png;
}

/** One output that each call replaces in place (tslab's newDisplay): live charts and previews. */
export interface LiveDisplay {
  html(html: string): boolean;
  png(png: Uint8Array): boolean;
}

export function liveDisplay(): LiveDisplay {
  // Created lazily: outside the kernel there is nothing to create, and every call is a no-op.
  let d: TslabDisplay | null | undefined;
  const target = () => (d === undefined ? (d = tslab()?.newDisplay() ?? null) : d);
  return {
    html: (html) => send((x) => x.html(html), target()),
    png: (png) => send((x) => x.png(png), target()),
  };
}

/** Show PNG bytes (from imageGrid and friends). */
export function showPng(png: Uint8Array): boolean {
  return send((d) => d.png(png));
}

/**
 * Show an animated GIF or WebP. As an <img> with the bytes inside: Jupyter shows it, and the HTML
 * page nbconvert exports keeps it playing offline.
 */
export function showAnimation(bytes: Uint8Array, format: 'gif' | 'webp', { maxWidth = 960 } = {}): boolean {
  return showHtml(`<img alt="timelapse" style="max-width:${maxWidth}px;image-rendering:auto" src="data:image/${format};base64,${Buffer.from(bytes).toString('base64')}">`);
}
