// `deepfake-lab swap`: put the other identity's face into photos, with a provenance label.

import * as fs from 'fs';
import * as path from 'path';
import { BLENDERS } from '../swap/blend';
import { COLOUR_MATCHERS } from '../swap/colour';
import { DEFAULT_SWAP, swapPath, type SwapSummary } from '../swap/swap-photos';
import { DEFAULT_SWAP_MASK } from '../swap/blend-mask';
import { loadSwapModel, type SwapModel } from '../swap/model';
import { listImageFiles } from '../util/image';
import { provenanceLabel } from '../swap/provenance';
import { ffmpegMissing, isVideoFile } from '../util/ffmpeg';
import { swapVideoFiles, type VideoClipResult } from '../video/swap-videos';
import { DEFAULT_SMOOTH } from '../video/smooth';
import { truthClipOf } from '../video/temporal-scores';
import { DEFAULT_VIDEO } from '../video/swap-video';
import { defineCommand, ensureWritableDir, UsageError } from './command';
import { choice, flag, int, num, text } from './options';

const fmt = (x: number | null) => (x === null || !Number.isFinite(x) ? '-' : x.toFixed(2));

/** Photos (for swapPath: the file, or the folder's image files) and video files in PATH. */
async function inputsOf(input: string): Promise<{ photos: string[]; videos: string[] }> {
  if (!fs.statSync(input).isDirectory()) return isVideoFile(input) ? { photos: [], videos: [path.resolve(input)] } : { photos: [path.resolve(input)], videos: [] };
  const listing = await listImageFiles(input);
  return { photos: listing.files, videos: listing.ignored.filter((e) => e.reason === 'not an image file name' && isVideoFile(e.file)).map((e) => e.file) };
}

/** Ctrl-C or SIGTERM: stop after the current frame; the work folder keeps what is done. */
async function withInterrupt<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

function formatClip(c: VideoClipResult): string {
  const name = path.basename(c.input);
  if (c.skipped) return `${name}: ${c.skipped}${c.out ? ` (${c.out})` : ''}`;
  if (c.interrupted) return `${name}: interrupted; run the same command again to resume`;
  const t = c.temporal;
  return [
    `${name}: ${c.frames} frames at ${c.rate} fps (${c.framesPerSecond.toFixed(2)} frames/s), ${c.facesSwapped} faces swapped in ${c.tracks.filter((k) => k.swapped).length} of ${c.tracks.length} face tracks, ` +
      `${c.audio ? 'with' : 'without'} sound -> ${c.out} (labelled; provenance ${c.sidecar})`,
    ...c.notes.map((n) => `  ${n}`),
    ...(c.resumed.frames || c.resumed.segments ? [`  resumed: faces of ${c.resumed.frames} frames and ${c.resumed.segments} segments from the earlier run`] : []),
    ...(t
      ? [`  landmark jitter ${t.jitter.raw.toFixed(4)} -> ${t.jitter.smoothed.toFixed(4)} smoothed (${(100 * t.jitter.reduction).toFixed(0)}% less${t.jitter.againstTruth ? ', against the true landmarks' : ''}); ` +
          `flicker ${fmt(t.flicker.raw)} -> ${fmt(t.flicker.smoothed)} of the ${t.flicker.reference}'s` +
          (t.truthPsnr ? `; truth PSNR ${fmt(t.truthPsnr.raw)} -> ${fmt(t.truthPsnr.smoothed)} dB` : '')]
      : []),
  ].join('\n');
}

function format(r: SwapSummary, model: SwapModel, to: string): string {
  const skipped = Object.entries(r.skipped).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  return [
    `${r.images} images, ${r.faces} faces found, ${r.swapped} swapped to "${to}" (model step ${model.source.step ?? '-'}, ${r.imagesPerSecond.toFixed(2)} images/s)`,
    `skipped: ${skipped}`,
    `${r.written.length} images written to ${r.out}, each labelled "${r.label}"`,
    ...(r.measured
      ? [
          `measured on ${r.measured.faces} swapped faces: identity transfer ${r.measured.decoded.identityTransfer.toFixed(2)} from the decoder, ` +
            `${r.measured.final.identityTransfer.toFixed(2)} in the written photos; verification ${fmt(r.measured.decoded.verification)} -> ${fmt(r.measured.final.verification)}; ` +
            `sharpness ratio ${fmt(r.measured.decoded.sharpness)} -> ${fmt(r.measured.final.sharpness)}; landmark error ${r.measured.decoded.landmarkError.toFixed(3)} -> ${r.measured.final.landmarkError.toFixed(3)}`,
        ]
      : []),
  ].join('\n');
}

export const swapCommand = defineCommand({
  summary: "put the other person's face into photos",
  notes: 'PATH: a photo, a video, or a folder of them. --smooth, --no-mark, --crf, --segment and --truth apply to videos.',
  options: {
    model: text('DIR', 'trained model folder (deepfake-lab train --model)', { required: true }),
    to: text('ID', "the identity to swap to: one of the model's (a or b)", { required: true }),
    in: text('PATH', 'a photo, a video, or a folder of them', { required: true }),
    out: text('DIR', 'where the swapped photos and videos go', { required: true }),
    faces: choice(['all', 'source'], "which faces to swap: every face, or only the source person's", DEFAULT_SWAP.faces),
    colour: choice(COLOUR_MATCHERS, "colour matching of the new face to the photo's", DEFAULT_SWAP.colour),
    blend: choice(BLENDERS, 'how the face is pasted', DEFAULT_SWAP.blend),
    light: num('0..1', "how much of a warping decoder's light the swap keeps (default: the model's)", { min: 0, max: 1 }),
    sharpen: num('AMOUNT', 'unsharp mask on the new face', { min: 0, max: 10, default: DEFAULT_SWAP.sharpen.amount }),
    format: choice(['png', 'jpeg'], 'format of the written photos', DEFAULT_SWAP.format),
    quality: int('Q', 'JPEG quality', { min: 1, max: 100, default: DEFAULT_SWAP.quality }),
    mark: flag('a visible "AI-generated" mark on photos (a label is always in the metadata)'),
    erode: num('PX', 'mask erosion', { min: 0, max: 64, default: DEFAULT_SWAP_MASK.erode }),
    feather: num('PX', 'mask feathering', { min: 0, max: 64, default: DEFAULT_SWAP_MASK.feather }),
    forehead: num('F', 'mask extension up the forehead', { min: 0, max: 1, default: DEFAULT_SWAP_MASK.forehead }),
    detector: choice(['ssd', 'tiny'], 'face detector', DEFAULT_SWAP.detector),
    'min-score': num('S', 'lowest detection score swapped', { min: 0, max: 1, default: DEFAULT_SWAP.minScore }),
    'min-face': num('PX', 'smallest face side swapped', { min: 0, max: 10000, default: DEFAULT_SWAP.minFace }),
    measure: flag('score the swaps: identity transfer, verification, sharpness, landmark error'),
    overwrite: flag('swap photos already swapped again'),
    smooth: num('S', 'video: landmark smoothing (0 off, 1 strongest)', { min: 0, max: 1, default: DEFAULT_SMOOTH.strength }),
    'no-mark': flag('video: no visible mark (it is on by default for video)'),
    crf: int('N', 'video: x264 quality (lower is better)', { min: 0, max: 51, default: DEFAULT_VIDEO.crf }),
    segment: int('N', 'video: frames per resumable piece', { min: 1, max: 100000, default: DEFAULT_VIDEO.segmentFrames }),
    truth: text('CLIP', 'video, with --measure: the ground-truth clip to measure against'),
  },
  async run(values) {
    const { model: modelDir, to, in: input, out: outDir } = values;
    if (!fs.existsSync(input)) throw new UsageError(`--in ${input}: no such file or folder`);
    if (fs.existsSync(outDir) && !fs.statSync(outDir).isDirectory()) throw new UsageError(`--out ${outDir}: not a folder`);
    const options = {
      to,
      faces: values.faces,
      colour: values.colour,
      blend: values.blend,
      sharpen: { ...DEFAULT_SWAP.sharpen, amount: values.sharpen },
      format: values.format,
      quality: values.quality,
      mark: values.mark,
      mask: { ...DEFAULT_SWAP_MASK, erode: values.erode, feather: values.feather, forehead: values.forehead },
      detector: values.detector,
      minScore: values['min-score'],
      minFace: values['min-face'],
      measure: values.measure,
      overwrite: values.overwrite,
    };
    if (values.mark && values['no-mark']) throw new UsageError('--mark and --no-mark contradict each other');
    const { photos, videos } = await inputsOf(input);
    if (videos.length > 0) {
      const missing = ffmpegMissing();
      if (missing) throw new UsageError(missing);
    }
    const video = {
      smooth: { strength: values.smooth },
      // The visible mark is on by default for video: a clip is watched, its metadata rarely read.
      mark: !values['no-mark'],
      crf: values.crf,
      // Frames per resumable piece: a killed run loses at most this many frames of work.
      segmentFrames: values.segment,
      truth: values.truth ?? null,
    };
    if (video.truth !== null) {
      if (!values.measure) throw new UsageError('--truth CLIP goes with --measure (it is the clip the swap is measured against)');
      try {
        truthClipOf(video.truth);
      } catch (e) {
        throw new UsageError(`--truth ${(e as Error).message}`);
      }
    }
    // How much of a warping decoder's light the swap keeps (the model's own setting when absent).
    const light = values.light === undefined ? {} : { swapLight: values.light };
    ensureWritableDir('swap', outDir);
    let model: SwapModel;
    try {
      model = await loadSwapModel(modelDir, { ...light, log: (line) => process.stderr.write(`swap: ${line}\n`) });
    } catch (e) {
      throw new UsageError(`--model ${modelDir}: ${(e as Error).message.split('\n')[0]}`);
    }
    try {
      if (!model.identities.includes(to)) throw new UsageError(`--to must be one of the model's identities (${model.identities.join(', ')}), got ${to}`);
      // Only videos: no photo pass (its detector, progress bar and --measure references are not needed).
      const summary: SwapSummary =
        photos.length > 0
          ? await swapPath(model, photos, outDir, options)
          : { images: 0, faces: 0, swapped: 0, skipped: {}, out: path.resolve(outDir), written: [], label: provenanceLabel(), seconds: 0, imagesPerSecond: 0 };
      const clips = await withInterrupt((signal) =>
        swapVideoFiles(model, videos, outDir, { ...options, ...video, mark: video.mark, signal, progressStream: process.stderr }),
      );
      // A single video that cannot be used is unusable input (exit 2), as a single bad photo path is.
      if (videos.length === 1 && photos.length === 0 && clips[0]?.skipped && clips[0].skipped !== 'already swapped') throw new UsageError(`${input}: ${clips[0].skipped}`);
      for (const c of clips) if (c.skipped && c.skipped !== 'already swapped') summary.skipped[`video: ${c.skipped}`] = (summary.skipped[`video: ${c.skipped}`] ?? 0) + 1;
      const interrupted = clips.some((c) => c.interrupted) || clips.length < videos.length;
      const { written, ...rest } = summary;
      const videoFiles = clips.flatMap((c) => (c.out ? [c.out] : []));
      const result = {
        ...rest,
        written: written.length,
        files: [...written, ...videoFiles].map((f) => path.relative(summary.out, f)),
        videos: videoFiles.length,
        frames: clips.reduce((s, c) => s + (c.out ? c.frames : 0), 0),
        clips,
        temporal: clips.find((c) => c.temporal)?.temporal ?? null,
        interrupted,
        model: model.source,
        to,
      };
      const text = [...(photos.length || !videos.length ? [format(summary, model, to)] : []), ...clips.map(formatClip)].join('\n');
      return { result, text, exitCode: interrupted ? 1 : 0 };
    } finally {
      model.dispose();
    }
  },
});
