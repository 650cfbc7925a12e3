// The temporal metrics of a video swap (lib/metrics/temporal.ts), measured by swapping the clip
// twice in memory: once with per-frame landmarks (raw), once with the smoothed ones. On the
// built-in clip (lib/samples/clip.ts) the true landmarks and the ground-truth clip are known:
// jitter counts only what the true motion does not explain, flicker is relative to the truth
// clip's, and every frame gets a ground-truth PSNR over the face region.

import { applyMatrixAll } from '../faces/align';
import type { FaceDetector } from '../faces/detector';
import { faceMask } from '../faces/mask';
import { alignmentMatrix } from '../faces/template';
import type { Point } from '../faces/types';
import { warpAffine } from '../faces/resample';
import { centreCropResize, imageToTensor, tensorToImage, toFacePixels, type RgbImage } from '../util/image';
import { colourChange, jitterSeries, landmarkJitter, maskedMean, maskedPsnr, mean } from '../metrics/temporal';
import { Progress } from '../util/progress';
import { clipTruthFor } from '../samples/clip';
import type { SwapModel } from '../swap/model';
import { swapFaces, type SwapImageOptions } from '../swap/swap-image';
import { analyseFrames, planSwap, type PlanOptions } from './analyse';
import { probeVideo, readFrames } from '../util/ffmpeg';
import type { FrameFace } from './track';

export interface TemporalReport {
  frames: number;
  /** Landmark jitter in eye distances per frame squared (lower is steadier). */
  jitter: { raw: number; smoothed: number; reduction: number; againstTruth: boolean; perFrame: { raw: Array<number | null>; smoothed: Array<number | null> } };
  /** Face-region colour change per frame, over the reference's (1 = as steady as the reference). */
  flicker: { raw: number; smoothed: number; reference: 'truth' | 'source' };
  /** Ground-truth PSNR over the face region (dB); null without a truth clip. */
  truthPsnr: { raw: number; smoothed: number; perFrame: { raw: number[]; smoothed: number[] } } | null;
}

export interface MeasureOptions extends Omit<PlanOptions, 'track'> {
  to: string;
  detector: FaceDetector;
  swap: Pick<SwapImageOptions, 'mask' | 'colour' | 'blend' | 'sharpen'>;
  /** The ground-truth clip (the built-in truth.mp4), or null. */
  truth?: string | null;
  /** The clip's faces when a swap already found them. */
  frames?: FrameFace[][];
  progressStream?: NodeJS.WriteStream | null;
}

/** A frame's face cut out as the model sees it, with the landmarks in the crop's pixels. */
export async function alignedCrop(img: RgbImage, landmarks: readonly Point[], model: SwapModel): Promise<{ face: Uint8Array; landmarks: Point[] }> {
  const t = imageToTensor(img);
  const matrix = alignmentMatrix(landmarks, model.geometry);
  const crop = warpAffine(t, matrix, model.geometry.size);
  t.dispose();
  try {
    const c = await tensorToImage(crop);
    return { face: await centreCropResize(c.data, c.width, c.height, model.inputSize, model.cropFraction), landmarks: toFacePixels(applyMatrixAll(matrix, landmarks), c, model.inputSize, model.cropFraction) };
  } finally {
    crop.dispose();
  }
}

/** Step two frame streams together (the truth clip may be absent: nulls). */
async function* zipFrames(a: AsyncGenerator<RgbImage>, b: AsyncGenerator<RgbImage> | null): AsyncGenerator<[RgbImage, RgbImage | null]> {
  for await (const frame of a) {
    const other = b ? await b.next() : null;
    yield [frame, other && !other.done ? other.value : null];
  }
  await b?.return(undefined);
}

/** The truth clip's record, or an error saying why `file` is not a ground-truth clip. */
export function truthClipOf(file: string): NonNullable<ReturnType<typeof clipTruthFor>> {
  const c = clipTruthFor(file);
  if (c?.role !== 'truth') throw new Error(`${file}: not a ground-truth clip (no clip.json beside it naming it; make one with deepfake-lab samples --video)`);
  return c;
}

export async function measureVideo(model: SwapModel, file: string, o: MeasureOptions): Promise<TemporalReport> {
  const truthClip = o.truth ? truthClipOf(o.truth) : null;
  const info = await probeVideo(file);
  const frames = o.frames ?? (await analyseFrames(info, o.detector, { progressStream: o.progressStream })).frames;
  const plan = planSwap(frames, info.fps, o);
  const source = clipTruthFor(file);
  const trueA = source?.role === 'a' ? source.record.landmarks.a : null;
  const trueB = truthClip ? truthClip.record.landmarks.b : null;

  // Jitter of every swapped track, against the truth where the clip has it (one person: the track).
  const jit = { raw: [] as number[], smoothed: [] as number[] };
  const truthOf = (n: number) => trueA?.slice(0, n) as Point[][] | undefined;
  for (const series of plan.byTrack.values()) {
    jit.raw.push(landmarkJitter(series.raw, truthOf(series.raw.length)));
    jit.smoothed.push(landmarkJitter(series.smoothed, truthOf(series.raw.length)));
  }
  // The face region measured: the true face where known, else the smoothed face of the longest track.
  const longest = [...plan.byTrack.values()].sort((p, q) => q.smoothed.filter(Boolean).length - p.smoothed.filter(Boolean).length)[0];
  const perFrame = { raw: longest ? jitterSeries(longest.raw, truthOf(frames.length)) : [], smoothed: longest ? jitterSeries(longest.smoothed, truthOf(frames.length)) : [] };
  const region = (i: number): Point[] | null => (trueA?.[i] as Point[] | undefined) ?? longest?.smoothed[i] ?? null;

  const swapOptions: SwapImageOptions = { identity: o.to, ...o.swap, minScore: 0, minFace: 0, person: null };
  const means = { raw: [] as Array<[number, number, number] | null>, smoothed: [] as Array<[number, number, number] | null>, reference: [] as Array<[number, number, number] | null> };
  const psnr = { raw: [] as number[], smoothed: [] as number[] };
  const progress = new Progress('video: measuring', frames.length, { unit: 'frames', stream: o.progressStream });
  let i = 0;
  try {
    for await (const [image, truthFrame] of zipFrames(readFrames(info), truthClip ? readFrames(await probeVideo(o.truth!)) : null)) {
      const ref = region(i);
      let truthFace: { face: Uint8Array; mask: Float32Array } | null = null;
      if (truthFrame && trueB?.[i]) {
        const c = await alignedCrop(truthFrame, trueB[i] as Point[], model);
        truthFace = { face: c.face, mask: await faceMask(c.landmarks, model.inputSize) };
      }
      for (const kind of ['raw', 'smoothed'] as const) {
        const faces = plan[kind][i] ?? [];
        const out = faces.length ? (await swapFaces(image, faces, model, swapOptions)).image : image;
        if (!ref) {
          means[kind].push(null);
          continue;
        }
        const c = await alignedCrop(out, ref, model);
        means[kind].push(maskedMean(c.face, truthFace?.mask ?? (await faceMask(c.landmarks, model.inputSize))));
        if (truthFace) psnr[kind].push(maskedPsnr(c.face, truthFace.face, truthFace.mask));
      }
      if (truthFace) means.reference.push(maskedMean(truthFace.face, truthFace.mask));
      else if (ref) {
        const c = await alignedCrop(image, ref, model);
        means.reference.push(maskedMean(c.face, await faceMask(c.landmarks, model.inputSize)));
      } else means.reference.push(null);
      i++;
      progress.tick();
    }
  } finally {
    progress.stop();
  }
  const refChange = colourChange(means.reference);
  const raw = mean(jit.raw), smoothed = mean(jit.smoothed);
  return {
    frames: frames.length,
    jitter: { raw, smoothed, reduction: raw > 0 ? 1 - smoothed / raw : NaN, againstTruth: trueA !== null, perFrame },
    flicker: { raw: colourChange(means.raw) / refChange, smoothed: colourChange(means.smoothed) / refChange, reference: truthClip ? 'truth' : 'source' },
    truthPsnr: truthClip ? { raw: mean(psnr.raw), smoothed: mean(psnr.smoothed), perFrame: psnr } : null,
  };
}
