// Two ways to look at latent codes in 2-D.
// PCA (ml-pca): a rotation of the code space; its axes are directions we can also walk along and
// decode (traversal), and its spreads tell how far is "normal". UMAP (umap-js): a non-linear map
// that keeps neighbours together, better at showing clusters, but its axes mean nothing. UMAP is
// random; it is seeded so the same codes give the same picture.

import { PCA } from 'ml-pca';
import { UMAP } from 'umap-js';
import seedrandom from 'seedrandom';
import type { Codes } from './codes';

export interface PcaModel {
  /** Mean code. */
  mean: number[];
  /** Principal directions, unit length, strongest first (one row each). */
  components: number[][];
  /** Standard deviation of the codes along each component. */
  sigmas: number[];
  /** Share of the total variance per component. */
  explained: number[];
  /** Coordinates of codes along the first k components. */
  project(codes: Codes, k?: number): number[][];
}

export function fitPca(codes: Codes, maxComponents = 10): PcaModel {
  if (codes.length < 2) throw new Error(`PCA needs at least 2 codes, got ${codes.length}`);
  const pca = new PCA(codes, { center: true, scale: false });
  const k = Math.min(maxComponents, codes.length - 1, codes[0].length);
  // Eigenvectors are the columns of this matrix; keep them as rows.
  const vectors = pca.getEigenvectors().transpose().to2DArray().slice(0, k);
  const d = codes[0].length;
  const mean = Array.from({ length: d }, (_, j) => codes.reduce((s, c) => s + c[j], 0) / codes.length);
  return {
    mean,
    components: vectors,
    sigmas: pca.getStandardDeviations().slice(0, k),
    explained: pca.getExplainedVariance().slice(0, k),
    project: (xs, n = 2) => pca.predict(xs, { nComponents: Math.min(n, k) }).to2DArray(),
  };
}

export interface UmapOptions {
  seed?: number;
  /** Neighbours per point (capped at n - 1). Default 15. */
  nNeighbors?: number;
  minDist?: number;
  nEpochs?: number;
}

/** A seeded 2-D UMAP embedding of the codes: the same codes and seed give the same points. */
export function umapProject(codes: Codes, options: UmapOptions = {}): number[][] {
  const { seed = 1, minDist = 0.1, nEpochs } = options;
  if (codes.length < 3) throw new Error(`UMAP needs at least 3 codes, got ${codes.length}`);
  const nNeighbors = Math.max(2, Math.min(options.nNeighbors ?? 15, codes.length - 1));
  const umap = new UMAP({ nComponents: 2, nNeighbors, minDist, nEpochs, random: seedrandom(String(seed)) });
  return umap.fit(codes);
}
