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
import { initBackend } from '../lib/engine/backend';
import { loadTruthPhoto, photoSharpness, r4, swapTruthPhoto, TRUTH_WAYS, type TruthPhoto } from '../lib/benchmark/quality-judge';
import { growBox, landmarkBox } from '../lib/faces/types';
import { writeFileAtomic } from '../lib/util/fsutil';
import { cutBox, imageToTensor, pixelBox, type RgbImage } from '../lib/util/image';
import { ssim } from '../lib/metrics/pixel-metrics';
import { readTruthManifest } from '../lib/samples/truth';
import { mean, median } from '../lib/util/stats';
import { loadSwapModel, type SwapModel } from '../lib/swap/model';
import { DEFAULT_SHARPEN } from '../lib/swap/sharpen';
import { imageGrid } from '../lib/util/image-grid';

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

const luma = (t: tf.Tensor3D) => t.mul(tf.tensor1d([0.299, 0.587, 0.114])).sum(-1, true).expandDims(0) as tf.Tensor4D;
const TILE = 160;

/**
 * One truth photo swapped at one amount, scored two ways: its sharpness in the photo
 * (photoSharpness, as `bench --quality` reports it) and the lightness SSIM against the truth inside
 * the source's mask (lightness only: the colour matcher rightly keeps the source photo's colours,
 * the truth has the other person's). Also the swap's face region, for the picture.
 */
async function scoreSwap(model: SwapModel, photo: TruthPhoto, b: ReturnType<typeof pixelBox>, amount: number) {
  const swapped = await swapTruthPhoto(photo, model, { ...DEFAULT_SHARPEN, amount });
  const { sharp, ceiling } = await photoSharpness(photo, swapped, model);
  const face = cutBox(swapped, b);
  const s = tf.tidy(() => {
    const w = tf.tensor3d(photo.mask, [photo.source.height, photo.source.width, 1]).slice([b.y, b.x, 0], [b.height, b.width, 1]);
    const x = imageToTensor(face).mul(w) as tf.Tensor3D, y = imageToTensor(cutBox(photo.answer, b)).mul(w) as tf.Tensor3D;
    return ssim(luma(x), luma(y));
  });
  const lightnessSsim = (await s.data())[0]!;
  s.dispose();
  return { sharp, ceiling, lightnessSsim, face };
}

async function main() {
  await initBackend();
  const model = await loadSwapModel(path.resolve(values.model!));
  const truthDir = path.resolve(values.truth!);
  const records = readTruthManifest(truthDir).slice(0, pairs);
  const scores = amounts.map(() => ({ a2b: { sharp: [] as number[], ssim: [] as number[] }, b2a: { sharp: [] as number[], ssim: [] as number[] } }));
  const ceilings = { a2b: [] as number[], b2a: [] as number[] };
  const rows: RgbImage[] = [];
  for (const [k, r] of records.entries()) {
    for (const [from, to, way] of TRUTH_WAYS) {
      const photo = await loadTruthPhoto(truthDir, r, from, to);
      const region = pixelBox(growBox(landmarkBox(photo.landmarks), 0.25), photo.source.width, photo.source.height);
      const row: RgbImage[] = [cutBox(photo.source, region)];
      for (const [i, amount] of amounts.entries()) {
        const { sharp, ceiling, lightnessSsim, face } = await scoreSwap(model, photo, region, amount);
        if (i === 0) ceilings[way].push(ceiling); // the same for every amount: the truth's, not the swap's
        scores[i]![way].sharp.push(sharp);
        scores[i]![way].ssim.push(lightnessSsim);
        row.push(face);
      }
      if (k < show) rows.push(...row, cutBox(photo.answer, region));
    }
  }
  const ceiling = { a2b: r4(mean(ceilings.a2b)), b2a: r4(mean(ceilings.b2a)) };
  const table = amounts.map((amount, i) => {
    const c = scores[i]!;
    const row = {
      amount,
      photoSharpness: { a2b: r4(mean(c.a2b.sharp)), b2a: r4(mean(c.b2a.sharp)) },
      ceiling,
      lightnessSsim: { a2b: r4(median(c.a2b.ssim)), b2a: r4(median(c.b2a.ssim)) },
    };
    console.error(`amount ${amount}: photo sharpness ${row.photoSharpness.a2b}/${row.photoSharpness.b2a} (64 px ceiling ${ceiling.a2b}/${ceiling.b2a}), lightness SSIM against the truth ${row.lightnessSsim.a2b}/${row.lightnessSsim.b2a}`);
    return row;
  });
  let picture: string | null = null;
  if (rows.length) {
    picture = path.join(outDir, 'sharpen.png');
    await fs.promises.mkdir(outDir, { recursive: true });
    await writeFileAtomic(picture, imageGrid(rows, { columns: amounts.length + 2, cell: TILE }));
  }
  console.log(JSON.stringify({ model: values.model, pairs: records.length, columns: ['source', ...amounts.map((a) => `sharpen ${a}`), 'truth'], picture, table }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
