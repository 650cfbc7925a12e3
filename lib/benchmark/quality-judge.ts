// How `bench --quality` scores a model, the same way for every recipe: every face (truth, swap,
// real) is brought to one scoring frame, the centre 0.75 of the aligned crop at 64 px, so recipes
// with other crops, input sizes or masks compare on the same pixels.
//
// Per model: ground-truth PSNR/SSIM of the swaps both ways (built-in people only) and what not
// swapping at all scores; identity verification and sharpness ratio of the held-out faces' swaps
// against the target's real faces; reconstruction PSNR; how far A's and B's latent codes
// overlap; and the swap as it ends up in a whole photo (sharpness and PSNR inside the face mask).

import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { faceMask } from '../faces/mask';
import { faceDescriptor } from '../faces/recognition';
import type { CropGeometry } from '../faces/template';
import { landmarkBox, type Point } from '../faces/types';
import { decodeImage, imageToTensor, type RgbImage } from '../util/image';
import { JsonNumber } from '../util/jsonfile';
import { encodeLatent } from '../latent/codes';
import { calibrateVerifier, identityTransfer, verify, type Verifier } from '../metrics/identity';
import { laplacianVariance, psnr, readScalar, ssim } from '../metrics/pixel-metrics';
import { eachFace } from '../metrics/landmarks';
import { autoencodeRgb, swapDecodeRgb, type Autoencoder } from '../model/builder';
import type { TruthRecord } from '../samples/dataset';
import { readTruthManifest, loadTruthFaces } from '../samples/truth';
import { mean } from '../util/stats';
import { DEFAULT_SWAP_MASK } from '../swap/blend-mask';
import type { SwapModel } from '../swap/model';
import { faceFrame, modelScale } from '../swap/geometry';
import { DEFAULT_SHARPEN, type SharpenOptions } from '../swap/sharpen';
import { swapFaces } from '../swap/swap-image';
import { facesToTensor } from '../data/face-set';
import { subset, type FaceSet } from '../data/face-set';
import { faceMaskTensor, loadIdentityFaces } from '../data/identity-faces';

/** Every recipe is scored in this frame: the centre 0.75 of the aligned crop, at 64 px. */
export const SCORING_FRAME = { size: 64, cropFraction: 0.75 };

/** The faces a benchmark trains and judges on. */
export interface QualityData {
  /** Folders of aligned faces (extract's output). */
  a: string;
  b: string;
  /** Ground-truth pairs (samples' truth/ folder), or null for real people. */
  truth: string | null;
  /** The crop geometry the faces were extracted with. */
  geometry: CropGeometry;
}

// For the benchmark's result cache. Scores can be NaN or Infinity (identical images, no faces),
// which JSON stores as null: JsonNumber reads them back as NaN.
const PairSchema = z.object({ a2b: z.number().nullable(), b2a: z.number().nullable() });
export type Pair = z.infer<typeof PairSchema>;
const FidelitySchema = z.object({ psnr: JsonNumber, ssim: JsonNumber });
export const qualityScoresShape = {
  truth: z.object({ pairs: z.number(), a2b: FidelitySchema, b2a: FidelitySchema, unswapped: FidelitySchema }).nullable(),
  verification: PairSchema,
  /** Share nearer the target than the source: the lenient, saturating measure, for comparison. */
  identityTransfer: PairSchema,
  sharpness: PairSchema,
  reconstruction: z.object({ a: FidelitySchema, b: FidelitySchema }),
  /** Latent-code overlap: 1 = A's and B's codes as mixed as one person's, 0 = two separate clouds. */
  overlap: z.object({ mixing: JsonNumber, pairRatio: JsonNumber.nullable() }),
  /**
   * The swap pasted into whole truth photos: sharpness inside the face mask against the truth
   * photo, and the most a model of this input size could reach (the truth photo brought down to
   * the model's pixels and back up).
   */
  photo: z.object({ pairs: z.number(), sharpness: PairSchema, ceiling: PairSchema }).nullable(),
};
const QualityScoresSchema = z.object(qualityScoresShape);
export type QualityScores = z.infer<typeof QualityScoresSchema>;

export interface Ceiling {
  /** Real faces of B verified as B (about 0.95 by construction) and of A as B (should be ~0), both ways. */
  realVerification: { self: Pair; other: Pair };
  /** The truth faces themselves: how well the right answer verifies, and its sharpness ratio. */
  truth: { verification: Pair; sharpness: Pair } | null;
}

/** Four decimals, as the reports print them. */
export const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** [n, s, s, 3] faces cut with `cropFraction` -> the scoring frame (the central region, resized to 64 px). */
export function toScoringFrame(faces: tf.Tensor4D, cropFraction: number): tf.Tensor4D {
  return tf.tidy(() => {
    const s = faces.shape[1];
    const { size, cropFraction: want } = SCORING_FRAME;
    if (cropFraction < want - 1e-9) throw new Error(`a crop of ${cropFraction} does not cover the scoring frame (${want})`);
    const side = Math.round((s * want) / cropFraction);
    const off = Math.floor((s - side) / 2);
    const region = side === s ? faces : faces.slice([0, off, off, 0], [-1, side, side, 3]);
    return (side === size ? region : tf.image.resizeBilinear(region as tf.Tensor4D, [size, size], false, true)) as tf.Tensor4D;
  });
}

/** Mean of a per-image metric over a batch. */
async function meanOf(f: (x: tf.Tensor4D, y: tf.Tensor4D) => tf.Tensor1D, x: tf.Tensor4D, y: tf.Tensor4D): Promise<number> {
  return readScalar(tf.tidy(() => f(x, y).mean()));
}

/** Masks [n, s, s, 1] from per-face landmarks in the faces' own pixels. */
async function masksTensor(landmarks: readonly Point[][], size: number): Promise<tf.Tensor4D> {
  const data = new Float32Array(landmarks.length * size * size);
  for (let i = 0; i < landmarks.length; i++) data.set(await faceMask(landmarks[i], size, size, { feather: 2 }), i * size * size);
  return tf.tensor4d(data, [landmarks.length, size, size, 1]);
}

/** How mixed two clouds of codes are: the share of each code's k nearest neighbours from the other cloud, over the share a perfect mix gives. */
export function mixingScore(a: number[][], b: number[][], k = 5): number {
  const all = [...a.map((c) => ({ c, id: 0 })), ...b.map((c) => ({ c, id: 1 }))];
  if (a.length < 2 || b.length < 2) return NaN;
  const d2 = (x: number[], y: number[]) => x.reduce((s, v, i) => s + (v - y[i]) ** 2, 0);
  let other = 0;
  for (const p of all) {
    const near = all.filter((q) => q !== p).map((q) => ({ d: d2(p.c, q.c), id: q.id })).sort((u, v) => u.d - v.d).slice(0, k);
    other += near.filter((q) => q.id !== p.id).length / near.length;
  }
  // A perfect mix: a point's neighbours come from the other cloud in proportion to its size.
  const expected = (2 * a.length * b.length) / (all.length * (all.length - 1));
  return other / all.length / expected;
}

/**
 * The real faces of a person that calibrate their verifier and sharpness reference: up to `count`
 * of all their faces (trained on or not), in the scoring frame.
 */
export async function referenceFaces(dir: string, count = 100): Promise<FaceSet> {
  const { size, cropFraction } = SCORING_FRAME;
  const all = await loadIdentityFaces(dir, size, { cropFraction, holdout: 0 });
  const ref = subset(all.train, [...Array(Math.min(count, all.train.pixels.length)).keys()]);
  if (ref.pixels.length < 3) throw new Error(`${dir}: ${ref.pixels.length} faces; the benchmark needs at least 3 per person`);
  return ref;
}

interface FrameFaces {
  heldOut: { a: tf.Tensor4D; b: tf.Tensor4D };
  truth: { a: tf.Tensor4D; b: tf.Tensor4D } | null;
}

/** The real and truth faces, scored once, and the per-frame model inputs, cut once per (size, crop). */
export class QualityJudge {
  private readonly frames = new Map<string, FrameFaces>();

  private constructor(
    readonly data: QualityData,
    readonly holdout: number,
    /** Held-out faces and truth in the scoring frame. */
    private readonly scoring: FrameFaces,
    private readonly masks: { heldOut: { a: tf.Tensor4D; b: tf.Tensor4D }; truth: { a: tf.Tensor4D; b: tf.Tensor4D } | null },
    private readonly verifiers: { a: Verifier; b: Verifier },
    private readonly realSharpness: { a: number; b: number },
    readonly ceiling: Ceiling,
  ) {}

  /**
   * Loads and describes the real faces once per benchmark (seconds): the held-out faces of each
   * person are what gets swapped and reconstructed; up to `referenceCount` of all their real faces
   * calibrate the verifier and the sharpness reference (real photos, trained on or not).
   */
  static async create(data: QualityData, holdout: number, referenceCount = 100): Promise<QualityJudge> {
    const { size, cropFraction } = SCORING_FRAME;
    const settings = { cropFraction, holdout };
    const held = {} as Record<'a' | 'b', tf.Tensor4D>, heldMasks = {} as Record<'a' | 'b', tf.Tensor4D>;
    const real = {} as Record<'a' | 'b', Float32Array[]>, realSharpness = {} as Record<'a' | 'b', number>;
    const masksOf = (set: FaceSet) => faceMaskTensor(set, cropFraction);
    for (const id of ['a', 'b'] as const) {
      const faces = await loadIdentityFaces(data[id], size, settings);
      if (faces.heldOut.pixels.length < 1) throw new Error(`${data[id]}: no held-out faces to judge swaps on (more faces, or a larger holdout)`);
      held[id] = facesToTensor(faces.heldOut.pixels, size);
      heldMasks[id] = await masksOf(faces.heldOut);
      const ref = await referenceFaces(data[id], referenceCount);
      const refFaces = facesToTensor(ref.pixels, size), refMasks = await masksOf(ref);
      try {
        real[id] = await eachFace(refFaces, faceDescriptor);
        realSharpness[id] = mean(await laplacianVariance(refFaces, refMasks));
      } finally {
        tf.dispose([refFaces, refMasks]);
      }
    }
    let truth: FrameFaces['truth'] = null, truthMasks = null;
    if (data.truth) {
      const t = await loadTruthFaces(data.truth, { geometry: data.geometry, size, cropFraction });
      truth = { a: facesToTensor(t.a, size), b: facesToTensor(t.b, size) };
      truthMasks = { a: await masksTensor(t.landmarks.a, size), b: await masksTensor(t.landmarks.b, size) };
    }
    const describe = (faces: tf.Tensor4D) => eachFace(faces, faceDescriptor);
    const verifiers = { a: calibrateVerifier(real.a), b: calibrateVerifier(real.b) };
    let truthCeiling: Ceiling['truth'] = null;
    if (truth && truthMasks) {
      const ta = await describe(truth.a), tb = await describe(truth.b);
      truthCeiling = {
        verification: { a2b: r4(verify(tb, verifiers.b).rate), b2a: r4(verify(ta, verifiers.a).rate) },
        sharpness: { a2b: r4(mean(await laplacianVariance(truth.b, truthMasks.b)) / realSharpness.b), b2a: r4(mean(await laplacianVariance(truth.a, truthMasks.a)) / realSharpness.a) },
      };
    }
    const ceiling: Ceiling = {
      realVerification: {
        self: { a2b: r4(verify(real.b, verifiers.b).rate), b2a: r4(verify(real.a, verifiers.a).rate) },
        other: { a2b: r4(verify(real.a, verifiers.b).rate), b2a: r4(verify(real.b, verifiers.a).rate) },
      },
      truth: truthCeiling,
    };
    return new QualityJudge(data, holdout, { heldOut: held, truth }, { heldOut: heldMasks, truth: truthMasks }, verifiers, realSharpness, ceiling);
  }

  /** The held-out and truth faces cut the way a model with this input size and crop sees them. */
  private async frameFaces(size: number, cropFraction: number): Promise<FrameFaces> {
    const key = `${size}|${cropFraction}`;
    const hit = this.frames.get(key);
    if (hit) return hit;
    const settings = { cropFraction, holdout: this.holdout };
    const heldOut = {
      a: facesToTensor((await loadIdentityFaces(this.data.a, size, settings)).heldOut.pixels, size),
      b: facesToTensor((await loadIdentityFaces(this.data.b, size, settings)).heldOut.pixels, size),
    };
    let truth: FrameFaces['truth'] = null;
    if (this.data.truth) {
      const t = await loadTruthFaces(this.data.truth, { geometry: this.data.geometry, size, cropFraction });
      truth = { a: facesToTensor(t.a, size), b: facesToTensor(t.b, size) };
    }
    const faces = { heldOut, truth };
    this.frames.set(key, faces);
    return faces;
  }

  /** `faces` decoded by `to` (swapped, or their own person's reconstructions), in the scoring frame, 16 at a time. */
  private decodeScoring(ae: Autoencoder, faces: tf.Tensor4D, to: string, cropFraction: number, swap = true): tf.Tensor4D {
    const decode = swap ? swapDecodeRgb : autoencodeRgb;
    const parts: tf.Tensor4D[] = [];
    for (let i = 0; i < faces.shape[0]; i += 16)
      parts.push(tf.tidy(() => toScoringFrame(decode(ae, faces.slice(i, Math.min(16, faces.shape[0] - i)), to), cropFraction)));
    const out = tf.concat(parts);
    tf.dispose(parts);
    return out;
  }

  /** The truth pairs' swaps in the scoring frame (for the comparison grid); null without truth. */
  async truthSwaps(ae: Autoencoder, cropFraction: number, n: number): Promise<{ a2b: tf.Tensor4D; b2a: tf.Tensor4D } | null> {
    const f = await this.frameFaces(ae.config.inputSize, cropFraction);
    if (!f.truth) return null;
    const k = Math.min(n, f.truth.a.shape[0]);
    const a = tf.tidy(() => f.truth!.a.slice(0, k) as tf.Tensor4D), b = tf.tidy(() => f.truth!.b.slice(0, k) as tf.Tensor4D);
    try {
      return { a2b: this.decodeScoring(ae, a, 'b', cropFraction), b2a: this.decodeScoring(ae, b, 'a', cropFraction) };
    } finally {
      tf.dispose([a, b]);
    }
  }

  /** The first n truth pairs in the scoring frame. */
  truthFaces(n: number): { a: tf.Tensor4D; b: tf.Tensor4D } | null {
    const t = this.scoring.truth;
    return t ? tf.tidy(() => ({ a: t.a.slice(0, Math.min(n, t.a.shape[0])) as tf.Tensor4D, b: t.b.slice(0, Math.min(n, t.b.shape[0])) as tf.Tensor4D })) : null;
  }

  async score(ae: Autoencoder, cropFraction: number, options: { photos?: SwapModel | null; photoPairs?: number } = {}): Promise<QualityScores> {
    const f = await this.frameFaces(ae.config.inputSize, cropFraction);
    const keep: tf.Tensor[] = [];
    try {
      const s = this.scoring;
      const recon = async (id: 'a' | 'b') => {
        const y = this.decodeScoring(ae, f.heldOut[id], id, cropFraction, false);
        keep.push(y);
        return { psnr: r4(await meanOf(psnr, y, s.heldOut[id])), ssim: r4(await meanOf(ssim, y, s.heldOut[id])) };
      };
      const reconstruction = { a: await recon('a'), b: await recon('b') };
      const sab = this.decodeScoring(ae, f.heldOut.a, 'b', cropFraction), sba = this.decodeScoring(ae, f.heldOut.b, 'a', cropFraction);
      keep.push(sab, sba);
      const dab = await eachFace(sab, faceDescriptor), dba = await eachFace(sba, faceDescriptor);
      const verification = { a2b: r4(verify(dab, this.verifiers.b).rate), b2a: r4(verify(dba, this.verifiers.a).rate) };
      const transfer = { a2b: r4(identityTransfer(dab, this.verifiers.a.mean, this.verifiers.b.mean)), b2a: r4(identityTransfer(dba, this.verifiers.b.mean, this.verifiers.a.mean)) };
      const sharpness = {
        a2b: r4(mean(await laplacianVariance(sab, this.masks.heldOut.a)) / this.realSharpness.b),
        b2a: r4(mean(await laplacianVariance(sba, this.masks.heldOut.b)) / this.realSharpness.a),
      };
      let truth: QualityScores['truth'] = null;
      let overlap: QualityScores['overlap'];
      if (f.truth && s.truth) {
        const tab = this.decodeScoring(ae, f.truth.a, 'b', cropFraction), tba = this.decodeScoring(ae, f.truth.b, 'a', cropFraction);
        keep.push(tab, tba);
        const both = async (x: tf.Tensor4D, y: tf.Tensor4D) => ({ psnr: r4(await meanOf(psnr, x, y)), ssim: r4(await meanOf(ssim, x, y)) });
        truth = { pairs: f.truth.a.shape[0], a2b: await both(tab, s.truth.b), b2a: await both(tba, s.truth.a), unswapped: await both(s.truth.a, s.truth.b) };
        overlap = await codeOverlap(ae, f.truth.a, f.truth.b, true);
      } else {
        overlap = await codeOverlap(ae, f.heldOut.a, f.heldOut.b, false);
      }
      const photo = options.photos && this.data.truth ? await photoScores(this.data.truth, options.photos, options.photoPairs ?? 8) : null;
      return { truth, verification, identityTransfer: transfer, sharpness, reconstruction, overlap, photo };
    } finally {
      tf.dispose(keep);
    }
  }

  dispose(): void {
    const all: tf.Tensor[] = [this.scoring.heldOut.a, this.scoring.heldOut.b, this.masks.heldOut.a, this.masks.heldOut.b];
    if (this.scoring.truth) all.push(this.scoring.truth.a, this.scoring.truth.b);
    if (this.masks.truth) all.push(this.masks.truth.a, this.masks.truth.b);
    for (const f of this.frames.values()) {
      all.push(f.heldOut.a, f.heldOut.b);
      if (f.truth) all.push(f.truth.a, f.truth.b);
    }
    tf.dispose(all);
    this.frames.clear();
  }
}

/** Latent-code overlap of two sets of faces; with `paired`, a[i] and b[i] show the same pose. */
async function codeOverlap(ae: Autoencoder, a: tf.Tensor4D, b: tf.Tensor4D, paired: boolean): Promise<QualityScores['overlap']> {
  const ca = await encodeLatent(ae, a), cb = await encodeLatent(ae, b);
  const dist = (x: number[], y: number[]) => Math.sqrt(x.reduce((s, v, i) => s + (v - y[i]) ** 2, 0));
  let pairRatio: number | null = null;
  if (paired && ca.length > 1) {
    // A pair's codes against the codes of other pairs: below 1, the encoder codes the pose, not the person.
    const own = mean(ca.map((c, i) => dist(c, cb[i])));
    const others = mean(ca.map((c, i) => dist(c, cb[(i + 1) % cb.length])));
    pairRatio = r4(own / Math.max(1e-9, others));
  }
  return { mixing: r4(mixingScore(ca, cb)), pairRatio };
}

/** The two directions of a truth pair: from, to, and the name its scores go under. */
export const TRUTH_WAYS = [['a', 'b', 'a2b'], ['b', 'a', 'b2a']] as const;

/** One truth pair as scoring reads it: the person's photo, the other person's of the same pose (the answer), the source face's mask. */
export interface TruthPhoto {
  source: RgbImage;
  answer: RgbImage;
  /** The source face's mask (no feather), one value per pixel, 0 to 1. */
  mask: Float32Array;
  landmarks: Point[];
  /** The identity the swap is to. */
  to: 'a' | 'b';
}

/** The truth photo `from` of `record`, with the other person's as its answer. */
export async function loadTruthPhoto(truthDir: string, record: TruthRecord, from: 'a' | 'b', to: 'a' | 'b'): Promise<TruthPhoto> {
  const source = await decodeImage(path.join(truthDir, from, record.file));
  const answer = await decodeImage(path.join(truthDir, to, record.file));
  const landmarks = record.landmarks[from] as Point[];
  const mask = await faceMask(landmarks, source.width, source.height, { forehead: DEFAULT_SWAP_MASK.forehead, erode: DEFAULT_SWAP_MASK.erode, feather: 0 });
  return { source, answer, mask, landmarks, to };
}

/** The truth photo swapped through the whole photo pipeline (mask, colour matching, blending, sharpening). */
export async function swapTruthPhoto(photo: TruthPhoto, model: SwapModel, sharpen: SharpenOptions = DEFAULT_SHARPEN): Promise<RgbImage> {
  const r = await swapFaces(photo.source, [{ box: landmarkBox(photo.landmarks), score: 1, landmarks: photo.landmarks, detector: 'truth' }], model, {
    identity: photo.to, mask: DEFAULT_SWAP_MASK, colour: 'histogram', blend: 'alpha', sharpen, minScore: 0, minFace: 0, person: null,
  });
  return r.image;
}

/**
 * The swap's sharpness as a ratio to the answer's inside the face mask, and the ceiling: the
 * answer itself brought down to the model's resolution and back, the most a decode of that size can give.
 */
export async function photoSharpness(photo: TruthPhoto, swapped: RgbImage, model: SwapModel): Promise<{ sharp: number; ceiling: number }> {
  const { width, height } = photo.source;
  const k = modelScale(faceFrame(photo.landmarks, model.geometry, model.cropFraction, model.inputSize));
  const [x, y, w, back] = tf.tidy(() => {
    const x = imageToTensor(swapped).expandDims(0) as tf.Tensor4D, y = imageToTensor(photo.answer).expandDims(0) as tf.Tensor4D;
    const w = tf.tensor4d(photo.mask, [1, height, width, 1]);
    const small = tf.image.resizeBilinear(y, [Math.max(1, Math.round(height * k)), Math.max(1, Math.round(width * k))], false, true);
    return [x, y, w, tf.image.resizeBilinear(small, [height, width], false, true) as tf.Tensor4D];
  });
  try {
    const reference = Math.max(1e-9, (await laplacianVariance(y, w))[0]!);
    return { sharp: (await laplacianVariance(x, w))[0]! / reference, ceiling: (await laplacianVariance(back, w))[0]! / reference };
  } finally {
    tf.dispose([x, y, w, back]);
  }
}

/**
 * The swap as it ends up in the photo: each truth photo of A swapped to B with the real pipeline
 * (mask, colour matching, blending), then its sharpness compared with the truth photo of B inside
 * A's face mask. (Not its PSNR: colour matching rightly recolours the face to A's photo.)
 */
export async function photoScores(truthDir: string, model: SwapModel, pairs: number, sharpen: SharpenOptions = DEFAULT_SHARPEN): Promise<NonNullable<QualityScores['photo']>> {
  const records = readTruthManifest(truthDir).slice(0, pairs);
  const out = { a2b: { sharp: [] as number[], ceiling: [] as number[] }, b2a: { sharp: [] as number[], ceiling: [] as number[] } };
  for (const r of records) {
    for (const [from, to, way] of TRUTH_WAYS) {
      const photo = await loadTruthPhoto(truthDir, r, from, to);
      const { sharp, ceiling } = await photoSharpness(photo, await swapTruthPhoto(photo, model, sharpen), model);
      out[way].sharp.push(sharp);
      out[way].ceiling.push(ceiling);
    }
  }
  return {
    pairs: records.length,
    sharpness: { a2b: r4(mean(out.a2b.sharp)), b2a: r4(mean(out.b2a.sharp)) },
    ceiling: { a2b: r4(mean(out.a2b.ceiling)), b2a: r4(mean(out.b2a.ceiling)) },
  };
}
