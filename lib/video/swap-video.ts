// Swapping a video: find and track the faces (analyse.ts), smooth their landmarks over time, swap
// every frame with the photo pipeline (lib/swap), and encode the frames at the source's rate with
// the source's sound and the provenance label.
//
// Memory stays bounded: one frame at a time is decoded, swapped and piped to the encoder. Work is
// resumable: the faces of each frame are appended to a work folder as they are found, and the
// swapped frames are encoded in segments of `segmentFrames` frames, each renamed into place when
// complete. A killed run starts again at the first missing frame or segment; the finished video
// is joined from the segments (no re-encoding) and only then renamed to its name.
//
//   OUT/<stem>.mp4               the swap, labelled (title, comment, description)
//   OUT/<stem>.provenance.json   model, source and settings
//   OUT/.<stem>.work/            while it runs: settings.json, faces.jsonl, seg-00000.mp4 ...

import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { DetectorKind } from '../faces/detector';
import type { FaceDetector } from '../faces/detector';
import { removeStaleTemps, writeFileAtomic, writeFileAtomicSync } from '../util/fsutil';
import { Progress, type ProgressState } from '../util/progress';
import { versions } from '../util/project';
import type { Blender } from '../swap/blend';
import { DEFAULT_SHARPEN, type SharpenOptions } from '../swap/sharpen';
import type { ColourMatcher } from '../swap/colour';
import { drawMark } from '../swap/mark';
import { DEFAULT_SWAP_MASK, type SwapMaskOptions } from '../swap/blend-mask';
import type { SwapModel } from '../swap/model';
import { LABEL_PREFIX, provenanceLabel } from '../swap/provenance';
import { swapFaces, type SwapImageOptions } from '../swap/swap-image';
import { analyseFrames, planSwap, type SwapPlan, type TrackPlan } from './analyse';
import { FrameEncoder, mux, probeOutput, probeVideo, readFrames, VideoRefused, type VideoInfo } from '../util/ffmpeg';
import { DEFAULT_SMOOTH, type SmoothOptions } from './smooth';
import type { FrameFace } from './track';

export interface VideoSwapOptions {
  /** Decode with this identity's decoder. */
  to: string;
  /** Only faces the recognition net says are this person (the model's other identity); null: all. */
  person?: { descriptor: Float32Array; threshold: number } | null;
  mask?: SwapMaskOptions;
  colour?: ColourMatcher;
  blend?: Blender;
  sharpen?: SharpenOptions;
  detector: FaceDetector;
  detectorKind?: DetectorKind;
  minScore?: number;
  minFace?: number;
  smooth?: SmoothOptions;
  /** The visible "SYNTHETIC" mark on every frame: on by default for video. */
  mark?: boolean;
  /** x264 quality (lower is better); 12 keeps untouched frames above 40 dB. */
  crf?: number;
  segmentFrames?: number;
  overwrite?: boolean;
  /** The clip's faces, when they were found already (a notebook's analysis): no second search. */
  frames?: FrameFace[][];
  /** Called with every frame's faces once they are known (--measure reuses them). */
  onAnalysed?: (frames: FrameFace[][]) => void;
  signal?: AbortSignal;
  progressStream?: NodeJS.WriteStream | null;
  onProgress?: (state: ProgressState) => void;
}

export const DEFAULT_VIDEO = { minScore: 0.5, minFace: 40, mark: true, crf: 12, segmentFrames: 48 };

export interface VideoSwapResult {
  input: string;
  /** The labelled video, or null when none was written (see `skipped`, `interrupted`). */
  out: string | null;
  sidecar: string | null;
  /** Frames decoded (= frames written). */
  frames: number;
  rate: string;
  fps: number;
  width: number;
  height: number;
  /** Faces found over all frames, frames with at least one face, and faces swapped. */
  facesFound: number;
  framesWithFaces: number;
  facesSwapped: number;
  tracks: TrackPlan[];
  audio: boolean;
  variableFrameRate: boolean;
  /** What the user should know (a converted frame rate, frames without a face). */
  notes: string[];
  /** Why the video was not swapped (one line), or null. */
  skipped: string | null;
  interrupted: boolean;
  /** The work was already there: segments and faces reused from an earlier run. */
  resumed: { frames: number; segments: number };
  label: string;
  seconds: number;
  framesPerSecond: number;
}

/** The settings a resumed run must share with the run it continues. */
function workKey(info: VideoInfo, model: SwapModel, o: VideoSwapOptions): string {
  const stat = fs.statSync(info.file);
  return JSON.stringify({
    file: path.resolve(info.file), size: stat.size, mtime: stat.mtimeMs, rate: info.rate,
    model: model.source, to: o.to, person: o.person ? Array.from(o.person.descriptor.slice(0, 4)) : null,
    mask: o.mask, colour: o.colour, blend: o.blend, sharpen: o.sharpen, detector: o.detectorKind, minScore: o.minScore, minFace: o.minFace,
    smooth: o.smooth, mark: o.mark, crf: o.crf, segmentFrames: o.segmentFrames,
  });
}

const segmentName = (k: number) => `seg-${String(k).padStart(5, '0')}.mp4`;

/** Swap the faces of one clip into `outDir`. Refusals (not a video, damaged, too large) come back as `skipped`, not as errors. */
export async function swapVideo(model: SwapModel, file: string, outDir: string, options: VideoSwapOptions): Promise<VideoSwapResult> {
  const o = { ...DEFAULT_VIDEO, colour: 'histogram' as ColourMatcher, blend: 'alpha' as Blender, sharpen: DEFAULT_SHARPEN, mask: DEFAULT_SWAP_MASK, smooth: DEFAULT_SMOOTH, person: null, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Required<Omit<VideoSwapOptions, 'signal' | 'progressStream' | 'onProgress' | 'detectorKind' | 'frames' | 'onAnalysed'>> & VideoSwapOptions;
  const started = Date.now();
  const stem = path.basename(file).replace(/\.[^.]+$/, '');
  const target = path.join(outDir, `${stem}.mp4`);
  const sidecar = path.join(outDir, `${stem}.provenance.json`);
  const work = path.join(outDir, `.${stem}.work`);
  const label = provenanceLabel();
  const result: VideoSwapResult = {
    input: path.resolve(file), out: null, sidecar: null, frames: 0, rate: '', fps: 0, width: 0, height: 0,
    facesFound: 0, framesWithFaces: 0, facesSwapped: 0, tracks: [], audio: false, variableFrameRate: false,
    notes: [], skipped: null, interrupted: false, resumed: { frames: 0, segments: 0 }, label, seconds: 0, framesPerSecond: 0,
  };
  const finish = () => {
    result.seconds = (Date.now() - started) / 1000;
    result.framesPerSecond = result.frames / Math.max(result.seconds, 1e-3);
    return result;
  };
  if (path.resolve(target) === path.resolve(file)) return { ...finish(), skipped: 'the output would overwrite the input (choose another --out)' };

  let info: VideoInfo;
  try {
    info = await probeVideo(file);
  } catch (e) {
    if (e instanceof VideoRefused) return { ...finish(), skipped: e.message };
    throw e;
  }
  Object.assign(result, { rate: info.rate, fps: info.fps, width: info.width, height: info.height, audio: info.hasAudio, variableFrameRate: info.variableFrameRate });
  if (info.variableFrameRate) result.notes.push(`variable frame rate: converted to a constant ${info.fps.toFixed(3).replace(/\.?0+$/, '')} fps`);
  if (!info.hasAudio) result.notes.push('no audio track: the output is video only');
  if (!o.overwrite && fs.existsSync(target) && fs.existsSync(sidecar)) {
    const p = await probeOutput(target).catch(() => null);
    if (p && p.tags.comment?.startsWith(LABEL_PREFIX)) {
      Object.assign(result, { out: path.resolve(target), sidecar: path.resolve(sidecar), frames: p.frames, skipped: 'already swapped' });
      return finish();
    }
  }

  // The work folder belongs to one set of settings; other settings start afresh.
  const key = workKey(info, model, o);
  const keyFile = path.join(work, 'settings.json');
  if (fs.existsSync(work) && (!fs.existsSync(keyFile) || fs.readFileSync(keyFile, 'utf8') !== key)) fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  removeStaleTemps(work);
  removeStaleTemps(outDir);
  writeFileAtomicSync(keyFile, key);
  const faceStore = path.join(work, 'faces.jsonl');
  result.resumed.frames = fs.existsSync(faceStore) ? fs.readFileSync(faceStore, 'utf8').split('\n').filter((l) => l.endsWith('}')).length : 0;

  let plan: SwapPlan;
  try {
    const analysis = o.frames ? { frames: o.frames, interrupted: false } : await analyseFrames(info, o.detector, { store: faceStore, signal: o.signal, progressStream: o.progressStream, onProgress: o.onProgress });
    if (analysis.interrupted) return { ...finish(), interrupted: true };
    const frames = analysis.frames;
    o.onAnalysed?.(frames);
    result.frames = frames.length;
    result.facesFound = frames.reduce((s, f) => s + f.length, 0);
    result.framesWithFaces = frames.filter((f) => f.length > 0).length;
    plan = planSwap(frames, info.fps, { person: o.person, minScore: o.minScore, minFace: o.minFace, smooth: o.smooth });
    result.tracks = plan.tracks;
    const noFace = frames.length - plan.smoothed.filter((f) => f.length > 0).length;
    if (noFace > 0) result.notes.push(`${noFace} of ${frames.length} frames without a face to swap: passed through unchanged`);

    const segments = Math.ceil(frames.length / o.segmentFrames);
    const parts = Array.from({ length: segments }, (_, k) => path.join(work, segmentName(k)));
    result.resumed.segments = parts.filter((p) => fs.existsSync(p)).length;
    const progress = new Progress('video: swapping', frames.length, { unit: 'frames', stream: o.progressStream, onUpdate: o.onProgress });
    const faceOptions: SwapImageOptions = { identity: o.to, mask: o.mask, colour: o.colour, blend: o.blend, sharpen: o.sharpen, minScore: 0, minFace: 0, person: null };
    let encoder: FrameEncoder | null = null;
    try {
      let i = 0;
      for await (const image of readFrames(info)) {
        const k = Math.floor(i / o.segmentFrames);
        if (fs.existsSync(parts[k]!)) {
          i++;
          progress.tick();
          continue;
        }
        if (o.signal?.aborted) {
          result.interrupted = true;
          break;
        }
        encoder ??= new FrameEncoder(`${parts[k]}.partial`, { width: info.width, height: info.height, rate: info.rate, crf: o.crf, gop: o.segmentFrames });
        const faces = plan.smoothed[i] ?? [];
        const swapped = faces.length ? await swapFaces(image, faces, model, faceOptions) : null;
        result.facesSwapped += swapped?.swapped ?? 0;
        const out = swapped?.image ?? image;
        if (o.mark) drawMark(out);
        await encoder.write(out);
        i++;
        progress.tick();
        if (i % o.segmentFrames === 0 || i === frames.length) {
          await encoder.finish();
          fs.renameSync(encoder.file, parts[k]!);
          encoder = null;
        }
      }
    } finally {
      encoder?.abort();
      progress.stop();
    }
    if (result.interrupted) return finish();

    // Joined inside the work folder, then renamed: a kill while joining leaves nothing in OUT.
    const tmp = path.join(work, 'joined.mp4');
    await mux({
      parts,
      audioFrom: info.hasAudio ? file : null,
      out: tmp,
      metadata: { title: `SYNTHETIC: ${label}`, comment: label, description: `${label}; face of "${o.to}" put in by a trained autoencoder (see ${path.basename(sidecar)})` },
    });
    fs.renameSync(tmp, target);
  } catch (e) {
    if (e instanceof VideoRefused) {
      // Nothing of a refused clip stays behind.
      fs.rmSync(work, { recursive: true, force: true });
      return { ...finish(), frames: 0, skipped: e.message };
    }
    throw e;
  }
  result.out = path.resolve(target);
  await writeFileAtomic(sidecar, JSON.stringify(provenanceRecord(info, model, o, result, plan), null, 2) + '\n');
  result.sidecar = path.resolve(sidecar);
  fs.rmSync(work, { recursive: true, force: true });
  return finish();
}

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** The sidecar: what a viewer of the file needs to know about how it was made. */
function provenanceRecord(info: VideoInfo, model: SwapModel, o: VideoSwapOptions, r: VideoSwapResult, plan: SwapPlan) {
  return {
    label: r.label,
    synthetic: true,
    digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/compositeSynthetic',
    created: new Date().toISOString(),
    software: `deepfake-lab ${versions()['deepfake-lab']}`,
    output: { file: path.basename(r.out ?? ''), sha256: r.out ? sha256(r.out) : null, frames: r.frames, rate: info.rate, audio: info.hasAudio, visibleMark: o.mark !== false },
    source: { file: path.basename(info.file), sha256: sha256(info.file), width: info.width, height: info.height, rate: info.rate, codec: info.codec, variableFrameRate: info.variableFrameRate },
    model: { checkpoint: model.source.checkpoint, step: model.source.step, identities: model.identities, inputSize: model.inputSize, decodedAs: o.to },
    settings: { mask: o.mask, colour: o.colour, blend: o.blend, sharpen: o.sharpen, detector: o.detectorKind, minScore: o.minScore, minFace: o.minFace, smooth: o.smooth, crf: o.crf, onlyPerson: o.person !== null && o.person !== undefined },
    tracks: plan.tracks,
    notes: r.notes,
  };
}

