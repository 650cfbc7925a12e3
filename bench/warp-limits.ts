// What keeps a warping model's swaps from the target: where its photo is moved, or how it is lit?
//
// With ground truth (`--truth`, the built-in pairs), the swap is scored against the truth beside
// renders that replace one of the model's guesses with the truth's own:
//   - geometry: the decoder's photo moved by the truth face's own landmarks (the map the training
//     pull aims for, lib/model/decoders/texture-coords.ts), unlit;
//   - geometry + the model's light: the same, times the gain the model put on its swap;
//   - geometry + the truth's light: the same, relit by the truth's smooth colour field (the ratio of
//     truth to render, both blurred by `--light-sigma` px): the best any smooth relighting reaches.
// The last is this design's ceiling; the gap from the swap to each row is what each guess costs. The
// swap is also rendered with each power of its light in LIGHT_SCAN (ModelConfig.swapLight). Also
// the coordinate error (texture px inside the face mask) of the swaps, and of each person's own faces
// through their own decoder (is the error the swap's, or the fit's?). Writes a picture of the rows.
//
// Always, on the model's own held-out faces (real people need no truth; `--sources train`: the faces
// it trained on, more of them, and never seen as the other person either): identity verification, as
// `bench --quality` measures it, of the swap, of the swap at each light power (light^0: the photo only
// moved), and of the photo moved by the landmarks of the source faces and of the target's own faces
// (how much of who a face is lies in its shape).
//
// Scored as `bench --quality` scores: the centre 0.75 of the aligned crop at 64 px.
//
//   node --import tsx bench/warp-limits.ts --model DIR [--truth DIR] [--sources held-out|train] [--show 6] [--out output/warp-limits]
//
// DIR: a `bench --quality` run's model folder (data/cache/quality/runs/warp-*/model) and the truth
// folder of the built-in data (data/cache/quality/builtin-s1-n300-p64/truth).

import * as path from 'path';
import { parseArgs } from 'util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/engine/backend';
import { r4, referenceFaces, SCORING_FRAME, toScoringFrame, TRUTH_WAYS } from '../lib/benchmark/quality-judge';
import { loadCropLandmarks } from '../lib/faces/crop-landmarks';
import { faceMask } from '../lib/faces/mask';
import { faceDescriptor } from '../lib/faces/recognition';
import type { Point } from '../lib/faces/types';
import { writeFileAtomic } from '../lib/util/fsutil';
import { tensorToImage } from '../lib/util/image';
import { calibrateVerifier, verify, type Verifier } from '../lib/metrics/identity';
import { psnr, ssim } from '../lib/metrics/pixel-metrics';
import { eachFace } from '../lib/metrics/landmarks';
import type { Autoencoder } from '../lib/model/builder';
import { swapLightOf } from '../lib/model/decoders/warping';
import { decoderKindName } from '../lib/model/config';
import { loadAutoencoder } from '../lib/model/store';
import { readTexture, warpLayer, warpStages, withCoordinates, type WarpFace } from '../lib/model/decoders/warping-layers';
import { loadTruthFaces } from '../lib/samples/truth';
import { median } from '../lib/util/stats';
import { trainingGeometry } from '../lib/swap/model';
import { latestCheckpoint, readCheckpointInfo } from '../lib/train/checkpoint';
import { modelLandmarks } from '../lib/data/identity-faces';
import { facesToTensor } from '../lib/data/face-set';
import { loadIdentityFaces } from '../lib/data/identity-faces';
import type { TrainSettings } from '../lib/train/settings';
import { coordinateTensor } from '../lib/model/decoders/texture-coords';
import { imageGrid } from '../lib/util/image-grid';

const { values } = parseArgs({ options: { model: { type: 'string' }, truth: { type: 'string' }, show: { type: 'string' }, out: { type: 'string' }, 'light-sigma': { type: 'string' }, sources: { type: 'string' } } });
if (!values.model) {
  console.error('usage: bench/warp-limits.ts --model DIR [--truth DIR] [--sources held-out|train] [--show 6] [--light-sigma 4] [--out output/warp-limits]');
  process.exit(2);
}
const sources = values.sources ?? 'held-out';
if (sources !== 'held-out' && sources !== 'train') {
  console.error(`warp-limits: --sources is held-out or train, got ${sources}`);
  process.exit(2);
}
const show = Number(values.show ?? 6);
const lightSigma = Number(values['light-sigma'] ?? 4);
const outDir = path.resolve(values.out ?? 'output/warp-limits');

/** A normalised Gaussian for depthwise convolution of RGB images. */
function gaussian(sigma: number): tf.Tensor4D {
  const r = Math.ceil(3 * sigma);
  const k = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const s = k.reduce((a, b) => a + b);
  return tf.tidy(() => tf.outerProduct(tf.tensor1d(k.map((v) => v / s)), tf.tensor1d(k.map((v) => v / s))).reshape([2 * r + 1, 2 * r + 1, 1, 1]).tile([1, 1, 3, 1]) as tf.Tensor4D);
}

/** `x` relit by the smooth colour field that brings it nearest `truth`: the best smooth light can do. */
function truthLight(x: tf.Tensor4D, truth: tf.Tensor4D, sigma: number): tf.Tensor4D {
  return tf.tidy(() => {
    const g = gaussian(sigma);
    const blur = (t: tf.Tensor4D) => tf.depthwiseConv2d(t, g, 1, 'same').add(1e-3);
    return x.mul(blur(truth).div(blur(x))).clipByValue(0, 1) as tf.Tensor4D;
  });
}

/** [n, s, s, 2] where each face's pixels lie in a decoder's photo, from their landmarks and the photo's. */
function landmarkCoordinates(landmarks: readonly Point[][], layer: WarpFace): tf.Tensor4D {
  return coordinateTensor(landmarks, layer.textureLandmarks(), layer.textureSize, layer.textureSize);
}

/** Faces in the scoring frame; a copy always (the frame is the input itself when the crops agree). */
const scoringOf = (crop: number) => (x: tf.Tensor4D) => tf.tidy(() => toScoringFrame(x, crop).clone());

/** The decoder's coordinates for these faces' codes, [n, s, s, 2]. */
function modelCoordinates(ae: Autoencoder, faces: tf.Tensor4D, to: string): tf.Tensor4D {
  return tf.tidy(() => (withCoordinates(ae.decoders[to]).predict(ae.encoder.predict(faces) as tf.Tensor4D) as tf.Tensor4D[])[1]);
}

/** Median over faces of the mean distance (texture px) between two coordinate maps inside each face's mask. */
async function coordinateError(a: tf.Tensor4D, b: tf.Tensor4D, masks: tf.Tensor4D): Promise<number> {
  const per = await tf.tidy(() => a.sub(b).square().sum(3, true).sqrt().mul(masks).sum([1, 2, 3]).div(masks.sum([1, 2, 3]))).data();
  return r4(median(Array.from(per)));
}

interface Model {
  ae: Autoencoder;
  checkpoint: string;
  settings: TrainSettings;
}

/** The light strengths the scan renders swaps at (ModelConfig.swapLight: the light raised to this power). */
const LIGHT_SCAN = [0, 0.25, 0.5, 0.75, 1];

/** The moved photo lit by the decoder's whole light raised to `k` (the swap's, at k = ModelConfig.swapLight). */
const lit = (moved: tf.Tensor4D, light: tf.Tensor4D, k: number) => tf.tidy(() => moved.mul(light.pow(k)).clipByValue(0, 1) as tf.Tensor4D);

/** The moved photo lit by each power of the decoder's whole light in LIGHT_SCAN, by name. */
function lightScan(moved: tf.Tensor4D, light: tf.Tensor4D): Record<string, tf.Tensor4D> {
  return Object.fromEntries(LIGHT_SCAN.map((k) => [`swap, light^${k}`, lit(moved, light, k)]));
}

/** A decoder's photo moved by coordinates [n, s, s, 2]. */
const moveBy = (layer: WarpFace, coords: tf.Tensor4D) => readTexture(layer.texture(), coords);

/** The swaps against the truth, beside renders with the truth's geometry and light; and the picture. */
async function truthLimits({ ae, settings }: Model, truthDir: string): Promise<{ rows: Record<string, unknown>[]; picture: string }> {
  const size = ae.config.inputSize, crop = settings.cropFraction;
  const truth = await loadTruthFaces(truthDir, { geometry: trainingGeometry(Object.values(settings.data)[0]), size, cropFraction: crop });
  const faces = { a: facesToTensor(truth.a, size), b: facesToTensor(truth.b, size) };
  const masksOf = async (id: 'a' | 'b') => {
    const m = await Promise.all(truth.landmarks[id].map((l) => faceMask(l, size, size, { feather: 2 })));
    return tf.tensor4d(Float32Array.from(m.flatMap((x) => Array.from(x))), [m.length, size, size, 1]);
  };
  const scoring = scoringOf(crop);
  const rows: Record<string, unknown>[] = [];
  const tiles: { images: tf.Tensor4D[]; captions: string[] }[] = [];
  for (const [from, to, way] of TRUTH_WAYS) {
    const layer = warpLayer(ae.decoders[to])!;
    const target = faces[to];
    const masks = await masksOf(to);
    const truthCoords = landmarkCoordinates(truth.landmarks[to], layer);
    const swapCoords = modelCoordinates(ae, faces[from], to), ownCoords = modelCoordinates(ae, target, to);
    const renders = tf.tidy(() => {
      const codes = ae.encoder.predict(faces[from]) as tf.Tensor4D;
      const { light, moved } = warpStages(ae.decoders[to], codes);
      const swap = lit(moved, light, swapLightOf(ae.config));
      const geometry = moveBy(layer, truthCoords);
      return {
        swap,
        ...lightScan(moved, light),
        'swap + truth light': truthLight(swap, target, lightSigma),
        'truth geometry': geometry,
        'truth geometry + model light': geometry.mul(light).clipByValue(0, 1) as tf.Tensor4D,
        'truth geometry + truth light': truthLight(geometry, target, lightSigma),
      };
    });
    const t = scoring(target);
    for (const [name, x] of Object.entries(renders)) {
      const s = scoring(x);
      const p = await tf.tidy(() => psnr(s, t).mean()).data(), q = await tf.tidy(() => ssim(s, t).mean()).data();
      rows.push({ way, render: name, psnr: r4(p[0]), ssim: r4(q[0]) });
      tf.dispose(s);
    }
    rows.push({ way, coordinateError: { swap: await coordinateError(swapCoords, truthCoords, masks), own: await coordinateError(ownCoords, truthCoords, masks) } });
    const k = Math.min(show, target.shape[0]);
    tiles.push({
      images: [t, ...Object.values(renders).map(scoring)].map((x) => tf.tidy(() => x.slice(0, k) as tf.Tensor4D)),
      captions: ['truth', ...Object.keys(renders)].map((c) => `${way}: ${c}`),
    });
    tf.dispose([t, masks, truthCoords, swapCoords, ownCoords, ...Object.values(renders)]);
  }
  tf.dispose([faces.a, faces.b]);
  // One row per pair and way: the truth, then each render.
  const images = [], captions: string[] = [];
  for (const { images: cols, captions: caps } of tiles)
    for (let i = 0; i < cols[0].shape[0]; i++)
      for (let c = 0; c < cols.length; c++) {
        const one = tf.tidy(() => cols[c].slice(i, 1).squeeze([0]) as tf.Tensor3D);
        images.push(await tensorToImage(one));
        captions.push(caps[c]);
        one.dispose();
      }
  tf.dispose(tiles.flatMap((t) => t.images));
  const picture = path.join(outDir, 'warp-limits.png');
  await writeFileAtomic(picture, imageGrid(images, { columns: tiles[0].images.length, cell: SCORING_FRAME.size * 2, captions }));
  return { rows, picture };
}

/** Identity verification of the swaps of the `sources` faces, at each light power, and of the photo moved to landmarks. */
async function identityLimits({ ae, settings }: Model): Promise<Record<string, unknown>[]> {
  const size = ae.config.inputSize, crop = settings.cropFraction;
  const scoring = scoringOf(crop);
  const held = {} as Record<'a' | 'b', { faces: tf.Tensor4D; landmarks: Point[][] }>;
  const verifiers = {} as Record<'a' | 'b', Verifier>;
  for (const id of ['a', 'b'] as const) {
    const all = await loadIdentityFaces(settings.data[id], size, settings);
    const set = sources === 'train' ? all.train : all.heldOut;
    const found = (await loadCropLandmarks(set.dir, set.files)).byFile;
    held[id] = { faces: facesToTensor(set.pixels, size), landmarks: modelLandmarks(set, crop, found).filter((l): l is Point[] => l !== null) };
    const ref = await referenceFaces(settings.data[id]);
    const refFaces = facesToTensor(ref.pixels, SCORING_FRAME.size);
    verifiers[id] = calibrateVerifier(await eachFace(refFaces, faceDescriptor));
    refFaces.dispose();
  }
  const rows: Record<string, unknown>[] = [];
  for (const [from, to, way] of TRUTH_WAYS) {
    const layer = warpLayer(ae.decoders[to])!;
    const sourceShape = landmarkCoordinates(held[from].landmarks, layer), ownShape = landmarkCoordinates(held[to].landmarks, layer);
    const codes = ae.encoder.predict(held[from].faces) as tf.Tensor4D;
    const stages = warpStages(ae.decoders[to], codes);
    const swap = lit(stages.moved, stages.light, swapLightOf(ae.config));
    codes.dispose();
    const renders = tf.tidy(() => ({
      swap,
      ...lightScan(stages.moved, stages.light),
      "photo moved to the source faces' landmarks": moveBy(layer, sourceShape),
      "photo moved to the target's own faces' landmarks": moveBy(layer, ownShape),
      'the source faces': held[from].faces.clone(),
    }));
    for (const [name, x] of Object.entries(renders)) {
      const s = scoring(x);
      const v = verify(await eachFace(s, faceDescriptor), verifiers[to]);
      rows.push({ way, render: name, faces: s.shape[0], verification: r4(v.rate), medianDistance: r4(v.medianDistance), threshold: r4(v.threshold), realMedian: r4(v.realMedian) });
      s.dispose();
    }
    tf.dispose([sourceShape, ownShape, stages.light, stages.moved, stages.face, ...Object.values(renders)]);
  }
  tf.dispose([held.a.faces, held.b.faces]);
  return rows;
}

async function main() {
  await initBackend();
  const checkpoint = latestCheckpoint(path.resolve(values.model!));
  if (!checkpoint) throw new Error(`${values.model}: no checkpoint`);
  const { settings } = await readCheckpointInfo(checkpoint);
  const ae = await loadAutoencoder(checkpoint);
  if (decoderKindName(ae.config) !== 'warping') throw new Error(`${values.model}: not a warping model (recipe warp)`);
  const model: Model = { ae, checkpoint, settings };
  const truth = values.truth ? await truthLimits(model, path.resolve(values.truth)) : null;
  const identity = await identityLimits(model);
  for (const r of [...(truth?.rows ?? []), ...identity]) console.log(JSON.stringify(r));
  console.log(JSON.stringify({ model: checkpoint, scoringFrame: SCORING_FRAME, lightSigma, swapLight: swapLightOf(ae.config), sources, truth: truth?.rows ?? null, identity, picture: truth?.picture ?? null }));
}

main().catch((e) => {
  console.error(`warp-limits: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
