// Pictures for chapter 06: real and swapped crops with the detector's verdict, the ROC curve, and
// saliency heat maps over the faces.

import type { Roc } from '../lab/fake-detector';
import type { FakeSet } from '../lab/fake-set';
import type { RgbImage } from '../util/image';
import { imageGrid } from '../util/image-grid';
import type { PlotlyFigure } from './plotly';

const face = (data: Uint8Array, size: number): RgbImage => ({ data, width: size, height: size });

/** The first `n` photos as pairs (real, swap), captioned with P(swap) when scores are given. */
export function fakePairsGrid(set: FakeSet, { n = 6, scores }: { n?: number; scores?: ArrayLike<number> } = {}): Buffer {
  const images: RgbImage[] = [], captions: string[] = [];
  const photos = [...new Set(set.photos)].slice(0, n);
  for (const label of [0, 1])
    for (const p of photos) {
      const i = set.photos.findIndex((q, k) => q === p && set.labels[k] === label);
      if (i < 0) continue;
      images.push(face(set.pixels[i]!, set.size));
      captions.push(`${label ? 'swap' : 'real'}${scores ? ` · P(swap) ${scores[i]!.toFixed(2)}` : ''}`);
    }
  return imageGrid(images, { columns: photos.length, cell: 112, captions });
}

/** ROC curves, one per set, with the coin-flip diagonal. */
export function rocFigure(curves: Array<{ name: string; roc: Roc }>): PlotlyFigure {
  return {
    data: [
      ...curves.map((c) => ({ type: 'scatter', mode: 'lines', name: `${c.name} (AUC ${c.roc.auc.toFixed(2)})`, x: c.roc.fpr, y: c.roc.tpr, line: { width: 2.5, shape: 'hv' } })),
      { type: 'scatter', mode: 'lines', name: 'a coin flip (AUC 0.50)', x: [0, 1], y: [0, 1], line: { dash: 'dot', color: '#9ca3af' } },
    ],
    layout: {
      title: { text: 'ROC: swaps caught against real faces accused, over every threshold' },
      xaxis: { title: { text: 'false-positive rate (real faces called swaps)' }, range: [0, 1] },
      yaxis: { title: { text: 'true-positive rate (swaps caught)' }, range: [0, 1.02] },
      legend: { orientation: 'h', y: -0.25 },
    },
  };
}

/** A heat map (0-1 per pixel) over a face: dark where the verdict does not care, hot where it does. */
export function heatOver(pixels: Uint8Array, map: Float32Array, size: number): RgbImage {
  const out = new Uint8Array(size * size * 3);
  for (let i = 0; i < size * size; i++) {
    const m = map[i]!;
    const hot = [Math.min(1, 3 * m), Math.min(1, Math.max(0, 3 * m - 1)), Math.max(0, 3 * m - 2)];
    for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(0.35 * pixels[i * 3 + c]! + 0.65 * 255 * hot[c]!);
  }
  return face(out, size);
}

/** Faces above their saliency maps. */
export function saliencyGrid(pixels: readonly Uint8Array[], maps: readonly Float32Array[], size: number, captions: readonly string[]): Buffer {
  return imageGrid([...pixels.map((p) => face(p, size)), ...pixels.map((p, i) => heatOver(p, maps[i]!, size))], {
    columns: pixels.length,
    cell: 112,
    captions: [...captions, ...pixels.map(() => 'where it looks')],
  });
}
