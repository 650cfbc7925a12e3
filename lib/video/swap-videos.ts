// Swapping video files (one, or those in a folder) into an output folder: one detector and one
// identity filter for all of them, each clip swapped by swap-video.ts, and with `measure` its
// temporal metrics (measure.ts). A clip that cannot be used is reported with its reason and the
// others go on.

import { initBackend } from '../engine/backend';
import { createDetector } from '../faces/extract';
import type { DetectorKind } from '../faces/detector';
import type { SwapModel } from '../swap/model';
import type { SwapOptions } from '../swap/swap-photos';
import { sourcePerson } from '../swap/person';
import { DEFAULT_SWAP_MASK } from '../swap/blend-mask';
import { measureVideo, type TemporalReport } from './temporal-scores';
import type { SmoothOptions } from './smooth';
import { swapVideo, type VideoSwapResult } from './swap-video';
import type { FrameFace } from './track';

/** How each face is swapped: the photo swap's own options (lib/swap/swap-photos.ts), and the video's. */
export interface VideoBatchOptions extends Pick<SwapOptions, 'to' | 'faces' | 'mask' | 'colour' | 'blend' | 'sharpen'> {
  detector?: DetectorKind;
  minScore?: number;
  minFace?: number;
  identityThreshold?: number;
  smooth?: SmoothOptions;
  mark?: boolean;
  crf?: number;
  segmentFrames?: number;
  overwrite?: boolean;
  /** Also measure jitter, flicker and (with `truth`) ground-truth PSNR, raw against smoothed. */
  measure?: boolean;
  /** The ground-truth clip for `measure` (the built-in truth.mp4). */
  truth?: string | null;
  /** The faces of every frame of the (single) clip, when a notebook found them already. */
  frames?: FrameFace[][];
  signal?: AbortSignal;
  progressStream?: NodeJS.WriteStream | null;
}

export interface VideoClipResult extends VideoSwapResult {
  temporal: TemporalReport | null;
}

export async function swapVideoFiles(model: SwapModel, files: readonly string[], outDir: string, o: VideoBatchOptions): Promise<VideoClipResult[]> {
  if (!model.identities.includes(o.to)) throw new Error(`the model has no identity "${o.to}" (it has ${model.identities.join(', ')})`);
  await initBackend();
  const person = await sourcePerson(model, o.to, o.faces, o.identityThreshold);
  const kind = o.detector ?? 'ssd';
  const minScore = o.minScore ?? 0.5, minFace = o.minFace ?? 40;
  const detector = await createDetector(kind, minScore);
  const out: VideoClipResult[] = [];
  for (const file of files) {
    if (o.signal?.aborted) break;
    let found: FrameFace[][] | undefined = files.length === 1 ? o.frames : undefined;
    const r = await swapVideo(model, file, outDir, {
      frames: found,
      onAnalysed: (frames) => (found = frames),
      to: o.to, person, mask: o.mask, colour: o.colour, blend: o.blend, sharpen: o.sharpen, detector, detectorKind: kind, minScore, minFace,
      smooth: o.smooth, mark: o.mark, crf: o.crf, segmentFrames: o.segmentFrames, overwrite: o.overwrite, signal: o.signal, progressStream: o.progressStream,
    });
    const temporal =
      o.measure && r.out && !r.interrupted
        ? await measureVideo(model, file, {
            to: o.to, detector, person, minScore, minFace, smooth: o.smooth ?? {},
            swap: { mask: o.mask ?? DEFAULT_SWAP_MASK, colour: o.colour, blend: o.blend, sharpen: o.sharpen },
            truth: o.truth ?? null, frames: found, progressStream: o.progressStream,
          })
        : null;
    out.push({ ...r, temporal });
  }
  return out;
}
