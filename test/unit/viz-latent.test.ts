// Latent space: codes from a tiny model, PCA and UMAP shapes and determinism, walks, pictures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { autoencode, buildAutoencoder } from '../../lib/model/builder';
import { facesToTensor } from '../../lib/data/face-set';
import { presetConfig } from '../../lib/model/config';
import { decodeLatent, encodeLatent } from '../../lib/latent/codes';
import { fitPca, umapProject } from '../../lib/latent/projection';
import { interpolate, newCodes, traverse } from '../../lib/latent/paths';
import { inspect } from 'util';
import { Picture, interpolationStrip, latentScatterFigure, latentScatterHtml, latentSet, newFacesGrid, traversalGrid } from '../../lib/viz/latent';
import type { FaceSet } from '../../lib/data/face-set';
import { EMBED_MARKER } from '../../lib/viz/plotly';

/** Seeded codes: two clusters in 16-D. */
function clusters(n: number, seed = 3): number[][] {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
  return Array.from({ length: n }, (_, i) => Array.from({ length: 16 }, (_, j) => rnd() + (i % 2 ? 3 : -3) * (j < 4 ? 1 : 0)));
}

function faceSet(n: number, size: number, tint: number): FaceSet {
  const pixels = Array.from({ length: n }, (_, i) => Uint8Array.from({ length: size * size * 3 }, (_, j) => (j % 3 === tint ? 200 : 40) + ((i * 7 + j) % 50)));
  return { dir: '/nowhere', size, files: pixels.map((_, i) => `face${i}.png`), pixels, sources: pixels.map(() => ({ width: size, height: size })), skipped: [] };
}

test('PCA: shapes, unit components, sigmas in order, and the clusters split on PC1', () => {
  const codes = clusters(30);
  const pca = fitPca(codes, 5);
  assert.equal(pca.components.length, 5);
  assert.equal(pca.mean.length, 16);
  for (const c of pca.components) assert.ok(Math.abs(Math.hypot(...c) - 1) < 1e-9);
  assert.ok(pca.sigmas.every((s, i) => i === 0 || s <= pca.sigmas[i - 1]));
  const pts = pca.project(codes, 2);
  assert.deepEqual([pts.length, pts[0].length], [30, 2]);
  const side = (i: number) => Math.sign(pts[i][0]);
  assert.ok(codes.every((_, i) => side(i) === side(i % 2)), 'PC1 separates the two clusters');
  assert.ok(pca.explained[0] > 0.5);
});

test('UMAP: n x 2, the same seed gives the same points, another seed other points', () => {
  const codes = clusters(24);
  const a = umapProject(codes, { seed: 7, nEpochs: 50 });
  const b = umapProject(codes, { seed: 7, nEpochs: 50 });
  const c = umapProject(codes, { seed: 8, nEpochs: 50 });
  assert.deepEqual([a.length, a[0].length], [24, 2]);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.throws(() => umapProject(codes.slice(0, 2)), /at least 3/);
});

test('interpolation ends exactly on the two codes; traversal and new codes are seeded', () => {
  const [a, b] = clusters(2);
  const line = interpolate(a, b, 5);
  assert.equal(line.length, 5);
  assert.deepEqual(line[0], a);
  assert.deepEqual(line[4], b);
  assert.ok(line[2].every((v, j) => Math.abs(v - (a[j] + b[j]) / 2) < 1e-12));
  const pca = fitPca(clusters(20), 3);
  const t = traverse(a, pca, 0, [-1, 0, 2]);
  assert.deepEqual(t[1], a);
  assert.ok(Math.abs(Math.hypot(...t[2].map((v, j) => v - a[j])) - 2 * pca.sigmas[0]) < 1e-9);
  assert.deepEqual(newCodes(clusters(20), pca, { count: 4, seed: 2 }), newCodes(clusters(20), pca, { count: 4, seed: 2 }));
  assert.throws(() => interpolate(a, b.slice(1), 3), /length/);
});

test('codes from a tiny model: encode, decode, scatter with thumbnails, decoded grids', { timeout: 90_000 }, async () => {
  await initBackend();
  const config = presetConfig('tiny');
  const ae = buildAutoencoder(config, { seed: 1 });
  const size = config.inputSize;
  const before = tf.memory().numTensors;
  const set = await latentSet(ae, { a: faceSet(6, size, 0), b: faceSet(5, size, 2) });
  assert.equal(set.codes.length, 11);
  assert.equal(set.codes[0].length, config.latentSize);
  assert.deepEqual(set.identity, [...Array(6).fill('a'), ...Array(5).fill('b')]);
  assert.ok(set.thumbnails.every((u) => u.startsWith('data:image/jpeg;base64,')));

  const faces = decodeLatent(ae, set.codes.slice(0, 2), 'b');
  assert.deepEqual(faces.shape, [2, size, size, 3]);
  faces.dispose();
  // Encoding to a code and decoding it is exactly the whole autoencoder.
  const x = facesToTensor(faceSet(3, size, 1).pixels, size);
  const codes = await encodeLatent(ae, x, 2);
  const viaCodes = decodeLatent(ae, codes, 'a');
  const direct = autoencode(ae, x, 'a');
  const gap = tf.tidy(() => viaCodes.sub(direct).abs().max().dataSync()[0]);
  assert.ok(gap < 1e-4, `decode(encode(x)) differs from the autoencoder by ${gap}`);
  tf.dispose([x, viaCodes, direct]);

  const pca = fitPca(set.codes);
  const fig = latentScatterFigure(set, pca.project(set.codes, 2));
  assert.equal(fig.data.length, 2);
  const html = latentScatterHtml(set, fig);
  assert.ok(html.includes('plotly_hover') && html.includes(set.thumbnails[7]), 'hover shows the thumbnails');
  assert.ok(!html.includes(EMBED_MARKER));

  const isPng = (p: Picture) => p.png.subarray(1, 4).toString() === 'PNG' && inspect(p).startsWith('[PNG picture');
  assert.ok(isPng(await interpolationStrip(ae, set.codes[0], set.codes[8], { steps: 4, show: false })));
  assert.ok(isPng(await traversalGrid(ae, set.codes[0], pca, { components: 2, show: false })));
  const fresh = await newFacesGrid(ae, set.codes, pca, { count: 3, show: false });
  assert.ok(isPng(fresh), inspect(fresh).slice(0, 200));
  assert.ok(tf.memory().numTensors <= before + 1, `no tensors leak (${before} -> ${tf.memory().numTensors})`);
});
