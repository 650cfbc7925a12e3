// How much should the swap sharpen the enlarged face (lib/swap/sharpen.ts)? A trained model's
// swaps of the built-in truth photos, pasted with each amount, scored in the whole photo: the
// sharpness ratio inside the face mask against the true photo of the target (what `bench --quality`
// reports as "in the photo"), and the SSIM of the face's lightness against that true photo (does the
// sharpening restore the truth's structure, or only add contrast of its own?). Writes a picture:
// per pair, A's photo, the swap at each amount, and the truth, cut to the face.
//
//   node --import tsx bench/sharpen.ts --model DIR --truth DIR [--pairs 32] [--amounts 0,0.5,1,2] [--out output/sharpen]
//
// DIR: a trained model (e.g. a `bench --quality` run's model folder) and the truth folder of the
// built-in data (data/cache/quality/builtin-s1-n300-p64/truth).

import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { photoScores } from '../lib/bench/quality-judge';
import { faceMask } from '../lib/faces/mask';
import type { Point } from '../lib/faces/types';
import { writeFileAtomic } from '../lib/fsutil';
import { decodeImage, encodeImage, imageToTensor, tensorToImage, type RgbImage } from '../lib/image';
import { ssim } from '../lib/metrics/image';
import { readTruthManifest } from '../lib/samples/truth';
import { median } from '../lib/stats';
import { DEFAULT_SWAP_MASK } from '../lib/swap/mask';
import { loadSwapModel } from '../lib/swap/model';
import { DEFAULT_SHARPEN } from '../lib/swap/sharpen';
import { swapFaces } from '../lib/swap/swap-image';

const { values } = parseArgs({
  options: { model: { type: 'string' }, truth: { type: 'string' }, pairs: { type: 'string' }, amounts: { type: 'string' }, out: { type: 'string' }, show: { type: 'string' } },
});
if (!values.model || !values.truth) {
  console.error('usage: bench/sharpen.ts --model DIR --truth DIR [--pairs 32] [--amounts 0,0.5,1,2] [--show 4] [--out output/sharpen]');
  process.exit(2);
}
const pairs = Number(values.pairs ?? 32);
const amounts = (values.amounts ?? '0,0.5,1,2').split(',').map(Number);
const show = Number(values.show ?? 4);
const outDir = path.resolve(values.out ?? 'output/sharpen');

/** The landmarks' bounding box grown by a quarter, clipped to the photo. */
function faceBox(landmarks: readonly Point[], width: number, height: number) {
  const xs = landmarks.map((p) => p[0]), ys = landmarks.map((p) => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  const g = 0.25 * Math.max(x1 - x0, y1 - y0);
  const x = Math.max(0, Math.floor(x0 - g)), y = Math.max(0, Math.floor(y0 - g));
  return { x, y, width: Math.min(width, Math.ceil(x1 + g)) - x, height: Math.min(height, Math.ceil(y1 + g)) - y };
}

const cut = (img: RgbImage, b: ReturnType<typeof faceBox>) => tf.tidy(() => imageToTensor(img).slice([b.y, b.x, 0], [b.height, b.width, 3]) as tf.Tensor3D);
const luma = (t: tf.Tensor3D) => t.mul(tf.tensor1d([0.299, 0.587, 0.114])).sum(-1, true).expandDims(0) as tf.Tensor4D;

/** Lightness SSIM of the swapped face against the truth inside A's mask, and the face cuts for the picture. */
async function comparePair(model: Awaited<ReturnType<typeof loadSwapModel>>, truthDir: string, file: string, landmarks: Point[], from: 'a' | 'b', to: 'a' | 'b') {
  const source = await decodeImage(path.join(truthDir, from, file));
  const answer = await decodeImage(path.join(truthDir, to, file));
  const box = faceBox(landmarks, source.width, source.height);
  const mask = await faceMask(landmarks, source.width, source.height, { forehead: DEFAULT_SWAP_MASK.forehead, erode: DEFAULT_SWAP_MASK.erode, feather: 0 });
  const w = tf.tidy(() => tf.tensor3d(mask, [source.height, source.width, 1]).slice([box.y, box.x, 0], [box.height, box.width, 1]));
  const truth = cut(answer, box);
  const swaps: tf.Tensor3D[] = [];
  const scores: number[] = [];
  for (const amount of amounts) {
    const swapped = await swapFaces(source, [{ box, score: 1, landmarks, detector: 'truth' }], model, {
      identity: to, mask: DEFAULT_SWAP_MASK, colour: 'histogram', blend: 'alpha', sharpen: { ...DEFAULT_SHARPEN, amount }, minScore: 0, minFace: 0, person: null,
    });
    const x = cut(swapped.image, box);
    // Lightness only: the colour matcher rightly keeps A's photo's colours, the truth has B's.
    const s = tf.tidy(() => ssim(luma(x.mul(w) as tf.Tensor3D), luma(truth.mul(w) as tf.Tensor3D)));
    scores.push((await s.data())[0]!);
    s.dispose();
    swaps.push(x);
  }
  const faces = [cut(source, box), ...swaps, truth];
  w.dispose();
  return { scores, faces };
}

async function main() {
  await initBackend();
  const model = await loadSwapModel(path.resolve(values.model!));
  const truthDir = path.resolve(values.truth!);
  const records = readTruthManifest(truthDir).slice(0, pairs);
  const ssims = amounts.map(() => ({ a2b: [] as number[], b2a: [] as number[] }));
  const rows: tf.Tensor3D[] = [];
  const TILE = 160;
  for (const [k, r] of records.entries()) {
    for (const [from, to] of [['a', 'b'], ['b', 'a']] as const) {
      const { scores, faces } = await comparePair(model, truthDir, r.file, r.landmarks[from] as Point[], from, to);
      scores.forEach((s, i) => ssims[i]![from === 'a' ? 'a2b' : 'b2a'].push(s));
      if (k < show) rows.push(tf.tidy(() => tf.concat(faces.map((f) => tf.image.resizeBilinear(f, [TILE, TILE], false, true)), 1) as tf.Tensor3D));
      tf.dispose(faces);
    }
  }
  const table = [];
  for (const [i, amount] of amounts.entries()) {
    const photo = await photoScores(truthDir, model, pairs, { ...DEFAULT_SHARPEN, amount });
    const lightnessSsim = { a2b: Math.round(median(ssims[i]!.a2b) * 1e4) / 1e4, b2a: Math.round(median(ssims[i]!.b2a) * 1e4) / 1e4 };
    table.push({ amount, photoSharpness: photo.sharpness, ceiling: photo.ceiling, lightnessSsim });
    console.error(`amount ${amount}: photo sharpness ${photo.sharpness.a2b}/${photo.sharpness.b2a} (64 px ceiling ${photo.ceiling.a2b}/${photo.ceiling.b2a}), lightness SSIM against the truth ${lightnessSsim.a2b}/${lightnessSsim.b2a}`);
  }
  let picture: string | null = null;
  if (rows.length) {
    const grid = tf.tidy(() => tf.concat(rows, 0) as tf.Tensor3D);
    picture = path.join(outDir, 'sharpen.png');
    await fs.promises.mkdir(outDir, { recursive: true });
    await writeFileAtomic(picture, await encodeImage(await tensorToImage(grid), 'png'));
    grid.dispose();
    tf.dispose(rows);
  }
  console.log(JSON.stringify({ model: values.model, pairs: records.length, columns: ['source', ...amounts.map((a) => `sharpen ${a}`), 'truth'], picture, table }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
