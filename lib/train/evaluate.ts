// Evaluation of a trained model: reconstruction quality (PSNR, SSIM of decoder_X(encoder(x))
// against x) on faces it was not trained on, a swap preview grid, and the swap metrics.
//
// The swap metrics (identity transfer, landmark error) need face-api's recognition and landmark
// nets; they come in through `swapMetrics`. Without one they are reported as null.
// With ground-truth pairs (the built-in identities, lib/samples/truth.ts) a swap is also scored
// against the right answer: decoder_b(encoder(a_p)) against b_p, rendered with the same parameters.

import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { psnr, ssim } from '../metrics/pixel-metrics';
import { NO_SWAP_METRICS, type SwapMetrics, type SwapMetricsFn } from '../metrics/swap';
import { autoencodeRgb, disposeAutoencoder, swapDecodeRgb, type Autoencoder } from '../model/builder';
import { loadNewestCheckpoint } from './checkpoint';
import { subset, type FaceSet } from '../data/face-set';
import { writePreview } from './preview';
import { facesToTensor } from '../data/face-set';
import { faceMaskTensor, loadIdentityFaces } from '../data/identity-faces';

export type { SwapFaces, SwapMetrics, SwapMetricsFn } from '../metrics/swap';

export interface Reconstruction {
  psnr: number | null;
  ssim: number | null;
  faces: number;
  /** 'held-out': the faces training set aside from its own folder; 'folder': a folder it did not train on. */
  source: 'held-out' | 'folder';
}

/** Swaps scored against ground truth: mean PSNR (dB) and SSIM over the pairs. */
export interface TruthScores {
  pairs: number;
  a2b: { psnr: number | null; ssim: number | null };
  b2a: { psnr: number | null; ssim: number | null };
  /** The source face itself scored against the truth: what not swapping at all would get. */
  unswapped: { psnr: number | null; ssim: number | null };
}

/** Ground-truth pairs as faces of the model's size (size x size x 3 bytes each; a[i] pairs with b[i]). */
export type TruthLoader = (size: number, cropFraction: number) => Promise<{ a: Uint8Array[]; b: Uint8Array[] }>;

export interface EvalReport {
  checkpoint: string;
  step: number;
  reconstruction: Record<'a' | 'b', Reconstruction>;
  swap: SwapMetrics & { preview: string | null; truth: TruthScores | null };
}

export interface EvaluateOptions {
  modelDir: string;
  data: { a: string; b: string };
  /** Plug-in for the swap metrics (identity, sharpness, landmarks; face-api). Default: none, reported as null. */
  swapMetrics?: SwapMetricsFn;
  /** Where to write the swap grid (A, A->A, A->B, B, B->B, B->A). Default <model>/previews/eval.png; null: none. */
  previewFile?: string | null;
  /** At most this many faces per identity. */
  maxFaces?: number;
  /** Ground-truth pairs to score swaps against; reported as swap.truth (null without). */
  truth?: TruthLoader;
  /** Where a note goes (a damaged newest checkpoint, the previous one used instead). Default: nowhere. */
  log?: (line: string) => void;
}

/** The faces to judge a decoder on: the held-out part of its training folder, or any other folder whole. */
async function evaluationFaces(dir: string, trainedDir: string | undefined, size: number, settings: { cropFraction: number; holdout: number }) {
  const same = trainedDir !== undefined && path.resolve(dir) === path.resolve(trainedDir);
  const split = await loadIdentityFaces(dir, size, same ? settings : { ...settings, holdout: 0 });
  const faces: FaceSet = same ? split.heldOut : split.train;
  return { faces, source: (same ? 'held-out' : 'folder') as Reconstruction['source'] };
}

/** Mean PSNR and SSIM of decoder_identity(encoder(faces)) against `target` (default: the faces), in chunks to bound memory. */
/** Mean PSNR and SSIM of `make(faces)` against `target`, 16 faces at a time. */
async function meanScores(faces: tf.Tensor4D, target: tf.Tensor4D, make: (x: tf.Tensor4D) => tf.Tensor4D): Promise<{ psnr: number | null; ssim: number | null }> {
  const n = faces.shape[0];
  if (n === 0) return { psnr: null, ssim: null };
  let p = 0, s = 0;
  for (let i = 0; i < n; i += 16) {
    const sums = tf.tidy(() => {
      const y = make(faces.slice(i, Math.min(16, n - i)));
      const t = target.slice(i, Math.min(16, n - i));
      return tf.stack([psnr(y, t).sum(), ssim(y, t).sum()]);
    });
    const [dp, ds] = await sums.data(); // asynchronously: webgpu has no synchronous read in Node.js
    sums.dispose();
    p += dp!;
    s += ds!;
  }
  return { psnr: p / n, ssim: s / n };
}

function reconstruction(ae: Autoencoder, faces: tf.Tensor4D, identity: string, target: tf.Tensor4D = faces) {
  return meanScores(faces, target, (x) => autoencodeRgb(ae, x, identity));
}

export async function evaluateModel(options: EvaluateOptions): Promise<EvalReport> {
  const ck = await loadNewestCheckpoint(path.resolve(options.modelDir), options.log);
  if (!ck) throw new Error(`${options.modelDir} holds no checkpoint (train first)`);
  const ckptDir = ck.dir;
  for (const o of Object.values(ck.optimizers)) o.dispose();
  const { ae, state } = ck;
  const size = ae.config.inputSize;
  const tensors: tf.Tensor[] = [];
  try {
    const sets = {
      a: await evaluationFaces(options.data.a, state.settings.data.a, size, state.settings),
      b: await evaluationFaces(options.data.b, state.settings.data.b, size, state.settings),
    };
    const limit = options.maxFaces ?? Infinity;
    const fa = facesToTensor(sets.a.faces.pixels.slice(0, limit), size);
    const fb = facesToTensor(sets.b.faces.pixels.slice(0, limit), size);
    tensors.push(fa, fb);
    const recon = {
      a: { ...(await reconstruction(ae, fa, 'a')), faces: fa.shape[0], source: sets.a.source },
      b: { ...(await reconstruction(ae, fb, 'b')), faces: fb.shape[0], source: sets.b.source },
    };
    let metrics: SwapMetrics = NO_SWAP_METRICS;
    if (options.swapMetrics && fa.shape[0] > 0 && fb.shape[0] > 0) {
      const aToB = swapDecodeRgb(ae, fa, 'b');
      const bToA = swapDecodeRgb(ae, fb, 'a');
      // Face masks of the real faces (a swap keeps its source's): sharpness is measured inside them.
      const first = (set: FaceSet) => subset(set, [...Array(Math.min(limit, set.pixels.length)).keys()]);
      const masks = { a: await faceMaskTensor(first(sets.a.faces), state.settings.cropFraction), b: await faceMaskTensor(first(sets.b.faces), state.settings.cropFraction) };
      tensors.push(aToB, bToA, masks.a, masks.b);
      metrics = await options.swapMetrics({ a: fa, b: fb, aToB, bToA, masks });
    }
    const previewFile = options.previewFile === undefined ? path.join(path.resolve(options.modelDir), 'previews', 'eval.png') : options.previewFile;
    let preview: string | null = null;
    if (previewFile && fa.shape[0] > 0 && fb.shape[0] > 0) {
      const k = Math.min(6, fa.shape[0], fb.shape[0]);
      preview = await writePreview(previewFile, ae, fa.slice(0, k), fb.slice(0, k));
    }
    let truth: TruthScores | null = null;
    if (options.truth) {
      const pairs = await options.truth(size, state.settings.cropFraction);
      const ta = facesToTensor(pairs.a, size);
      const tb = facesToTensor(pairs.b, size);
      tensors.push(ta, tb);
      truth = { pairs: ta.shape[0], a2b: await reconstruction(ae, ta, 'b', tb), b2a: await reconstruction(ae, tb, 'a', ta), unswapped: await meanScores(ta, tb, (x) => x) };
    }
    return { checkpoint: ckptDir, step: state.step, reconstruction: recon, swap: { ...metrics, preview, truth } };
  } finally {
    tf.dispose(tensors);
    disposeAutoencoder(ae);
  }
}
