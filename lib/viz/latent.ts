// The latent-space lab's pictures: a scatter of the codes of A's and B's faces (PCA or UMAP) where
// hovering a point shows that face, and image grids of decoded walks through the code space
// (interpolation, traversal along principal directions, new faces).

import { inspect } from 'util';
import * as tf from '@tensorflow/tfjs';
import { encodeImage, type RgbImage } from '../util/image';
import { writeFileAtomic } from '../util/fsutil';
import type { Autoencoder } from '../model/builder';
import { facesToTensor } from '../data/face-set';
import { decodeLatent, encodeLatent, type Codes } from '../latent/codes';
import { interpolate, newCodes, traverse } from '../latent/paths';
import { fitPca, umapProject, type PcaModel, type UmapOptions } from '../latent/projection';
import { showHtml, showPng, escapeHtml } from './display';
import { imageGrid } from '../util/image-grid';
import { chartHtml, ensurePlotly, type PlotlyFigure, type PlotlyTrace } from './plotly';

const COLOURS = ['#2563eb', '#ea580c', '#16a34a', '#9333ea'];

/** Codes of some faces of each identity, with what the scatter needs to show them. */
export interface LatentSet {
  codes: Codes;
  /** Identity of each code ('a', 'b'...). */
  identity: string[];
  /** File name of each face. */
  files: string[];
  /** A small JPEG data URI of each face, shown on hover. */
  thumbnails: string[];
}

async function thumbnail(pixels: Uint8Array, size: number): Promise<string> {
  const jpeg = await encodeImage({ data: pixels, width: size, height: size }, 'jpeg', { quality: 85, maxWidth: 96 });
  return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
}

/**
 * Faces of one identity: a FaceSet from lib/data/face-set.ts fits. Named structurally so this file
 * does not pull the loader into every notebook that only wants pictures.
 */
export interface FacePixels {
  /** Side in pixels. */
  size: number;
  files: string[];
  /** Interleaved RGB bytes, size * size * 3 each. */
  pixels: Uint8Array[];
}

/** Encode up to `limit` faces of each identity. */
export async function latentSet(ae: Autoencoder, sets: Record<string, FacePixels>, { limit = 200 } = {}): Promise<LatentSet> {
  const out: LatentSet = { codes: [], identity: [], files: [], thumbnails: [] };
  for (const [id, set] of Object.entries(sets)) {
    const pixels = set.pixels.slice(0, limit);
    if (!pixels.length) continue;
    const faces = facesToTensor(pixels, set.size);
    out.codes.push(...(await encodeLatent(ae, faces)));
    faces.dispose();
    for (let i = 0; i < pixels.length; i++) {
      out.identity.push(id);
      out.files.push(set.files[i]);
      out.thumbnails.push(await thumbnail(pixels[i], set.size));
    }
  }
  return out;
}

export type Projection = 'pca' | 'umap';

/** 2-D points for the set: PCA's first two components, or a seeded UMAP. */
export function project2d(set: LatentSet, method: Projection, umap: UmapOptions = {}): number[][] {
  return method === 'pca' ? fitPca(set.codes, 2).project(set.codes, 2) : umapProject(set.codes, umap);
}

/** One trace per identity; each point carries [thumbnail, caption] as customdata. */
export function latentScatterFigure(set: LatentSet, points: number[][], { title = 'Latent codes', names = {} as Record<string, string> } = {}): PlotlyFigure {
  const ids = [...new Set(set.identity)];
  const data: PlotlyTrace[] = ids.map((id, c) => {
    const idx = set.identity.flatMap((v, i) => (v === id ? [i] : []));
    const name = names[id] ?? id.toUpperCase();
    return {
      type: 'scatter',
      mode: 'markers',
      name,
      x: idx.map((i) => points[i][0]),
      y: idx.map((i) => points[i][1]),
      customdata: idx.map((i) => [set.thumbnails[i], `${name}: ${set.files[i]}`]),
      hovertemplate: '%{customdata[1]}<extra></extra>',
      marker: { color: COLOURS[c % COLOURS.length], size: 9, opacity: 0.8 },
    };
  });
  return { data, layout: { title: { text: title }, hovermode: 'closest', xaxis: { zeroline: false }, yaxis: { zeroline: false } } };
}

let scatterCount = 0;

/** The scatter plus an <img> beside it that shows the face under the mouse. */
export function latentScatterHtml(set: LatentSet, fig: PlotlyFigure, height = 460): string {
  scatterCount += 1;
  const id = `dfl-latent-${Date.now().toString(36)}-${scatterCount}`;
  const first = set.thumbnails[0] ?? '';
  const aside = [
    `<figure style="margin:0;width:112px;text-align:center;font:12px sans-serif">`,
    `<img id="${id}-img" class="deepfake-lab-hover-face" src="${first}" alt="face under the mouse" width="96" height="96" style="image-rendering:auto;border:1px solid #ccc">`,
    `<figcaption id="${id}-cap">${escapeHtml(set.files[0] ?? '')}<br>(hover a point)</figcaption>`,
    `</figure>`,
  ].join('');
  const afterDraw = [
    `var img = document.getElementById('${id}-img'), cap = document.getElementById('${id}-cap');`,
    `gd.on('plotly_hover', function (e) {`,
    `  var d = e.points[0].customdata;`,
    `  img.src = d[0]; cap.textContent = d[1];`,
    `});`,
  ].join('\n');
  return chartHtml(fig, { id, height, aside, afterDraw });
}

/** Show the latent scatter in the notebook; returns the HTML (to save or test). */
export function showLatentScatter(set: LatentSet, method: Projection = 'pca', options: { umap?: UmapOptions; names?: Record<string, string> } = {}): string {
  const points = project2d(set, method, options.umap);
  const title = method === 'pca' ? 'Latent codes, first two principal components (PCA)' : 'Latent codes, UMAP (neighbours stay together; axes mean nothing)';
  const html = latentScatterHtml(set, latentScatterFigure(set, points, { title, names: options.names }));
  ensurePlotly();
  showHtml(html);
  return html;
}

// ---- decoded walks, as image grids -----------------------------------------------------------

async function tensorFaces(t: tf.Tensor4D): Promise<RgbImage[]> {
  const [n, h, w] = t.shape;
  const bytes = tf.tidy(() => t.clipByValue(0, 1).mul(255).round().toInt());
  const data = await bytes.data();
  bytes.dispose();
  const each = h * w * 3;
  return Array.from({ length: n }, (_, i) => ({ data: Uint8Array.from(data.subarray(i * each, (i + 1) * each)), width: w, height: h }));
}

/** Decode codes with one decoder into RGB images. */
export async function decodeToImages(ae: Autoencoder, codes: Codes, identity: string): Promise<RgbImage[]> {
  const t = decodeLatent(ae, codes, identity);
  try {
    return await tensorFaces(t);
  } finally {
    t.dispose();
  }
}

export interface GridPictureOptions {
  /** Also write the PNG here. */
  file?: string;
  /** Show it in the notebook. Default true. */
  show?: boolean;
  cell?: number;
}

/** A picture that was shown (and maybe saved). As a cell's last value it prints one short line, not its bytes. */
export class Picture {
  constructor(readonly png: Buffer, readonly file: string | null) {}
  [inspect.custom](): string {
    return `[PNG picture, ${this.png.length} bytes${this.file ? `, saved as ${this.file}` : ''}]`;
  }
}

async function finish(images: RgbImage[], columns: number, captions: string[], o: GridPictureOptions): Promise<Picture> {
  const png = imageGrid(images, { columns, captions, cell: o.cell ?? 80 });
  if (o.file) await writeFileAtomic(o.file, png);
  if (o.show ?? true) showPng(png);
  return new Picture(png, o.file ?? null);
}

/** One row per decoder: the straight line from code `from` to code `to`, decoded at `steps` points. */
export async function interpolationStrip(ae: Autoencoder, from: number[], to: number[], options: GridPictureOptions & { steps?: number; identities?: string[] } = {}): Promise<Picture> {
  const steps = options.steps ?? 8;
  const ids = options.identities ?? ae.config.identities;
  const line = interpolate(from, to, steps);
  const images: RgbImage[] = [];
  const captions: string[] = [];
  for (const id of ids) {
    images.push(...(await decodeToImages(ae, line, id)));
    captions.push(...line.map((_, i) => `dec ${id.toUpperCase()} t=${(i / (steps - 1)).toFixed(2)}`));
  }
  return finish(images, steps, captions, options);
}

/** One row per principal component: code + k * sigma * component, decoded by one decoder. */
export async function traversalGrid(ae: Autoencoder, code: number[], pca: PcaModel, options: GridPictureOptions & { components?: number; ks?: number[]; identity?: string } = {}): Promise<Picture> {
  const ks = options.ks ?? [-2, -1, 0, 1, 2];
  const identity = options.identity ?? ae.config.identities[0];
  const n = Math.min(options.components ?? 3, pca.components.length);
  const images: RgbImage[] = [];
  const captions: string[] = [];
  for (let c = 0; c < n; c++) {
    images.push(...(await decodeToImages(ae, traverse(code, pca, c, ks), identity)));
    captions.push(...ks.map((k) => `PC${c + 1} ${k >= 0 ? '+' : ''}${k}σ`));
  }
  return finish(images, ks.length, captions, options);
}

/** New faces: mixed and perturbed codes (see newCodes), decoded by each decoder, one row each. */
export async function newFacesGrid(ae: Autoencoder, codes: Codes, pca: PcaModel, options: GridPictureOptions & { count?: number; seed?: number; spread?: number; identities?: string[] } = {}): Promise<Picture> {
  const fresh = newCodes(codes, pca, { count: options.count ?? 8, seed: options.seed, spread: options.spread });
  const images: RgbImage[] = [];
  const captions: string[] = [];
  for (const id of options.identities ?? ae.config.identities) {
    images.push(...(await decodeToImages(ae, fresh, id)));
    captions.push(...fresh.map((_, i) => `new ${i + 1}, dec ${id.toUpperCase()}`));
  }
  return finish(images, fresh.length, captions, options);
}
