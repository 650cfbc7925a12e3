// `deepfake-lab eval`: reconstruction PSNR/SSIM on held-out faces, a swap preview, swap metrics.
// With several --model: every model on the same faces, their loss curves, one grid and one table
// with the settings that differ (lib/lab/runs.ts), written as a page beside the grid.

import * as path from 'path';
import { initBackend } from '../engine/backend';
import { ALIGNMENTS_FILE, readAlignments } from '../faces/alignments';
import { DEFAULT_CROP, type CropGeometry } from '../faces/template';
import { loadTruthFaces, truthDir } from '../samples/truth';
import { faceApiSwapMetrics } from '../metrics/swap';
import { evaluateModel } from '../train/evaluate';
import { compareRuns, type RunComparison } from '../lab/runs';
import { writeRunComparisonPage } from '../viz/runs';
import { CorruptFile } from '../util/jsonfile';
import { defineCommand, UsageError, type CommandResult } from './command';
import { int, num, text, texts, type ValuesOf } from './options';
import { createDetector } from '../faces/extract';
import { loadSwapModel } from '../swap/model';
import { ffmpegMissing, probeVideo, VideoRefused } from '../util/ffmpeg';
import { measureVideo, truthClipOf } from '../video/temporal-scores';
import { DEFAULT_SMOOTH } from '../video/smooth';

const OPTIONS = {
  model: texts('DIR', 'a trained model folder; give several to compare them on the same faces'),
  a: text('DIR', 'aligned faces of identity A (its held-out share is scored)'),
  b: text('DIR', 'aligned faces of identity B'),
  'max-faces': int('N', 'faces scored per identity', { min: 1, default: 1000 }),
  preview: text('FILE', 'where the swap preview (or the comparison grid) goes'),
  truth: text('DIR|CLIP', 'ground truth from deepfake-lab samples: its folder, or with --video its truth clip'),
  video: text('CLIP', 'temporal metrics of a video swap instead (needs --model only)'),
  to: text('ID', "with --video: the identity to swap to (default the model's last)"),
  smooth: num('S', 'with --video: landmark smoothing (0 off, 1 strongest)', { min: 0, max: 1, default: DEFAULT_SMOOTH.strength }),
};
type EvalValues = ValuesOf<typeof OPTIONS>;

/** The crop geometry a faces folder was extracted with (its alignments.json), else extraction's default. */
function extractionGeometry(facesDir: string): CropGeometry {
  const o = readAlignments(path.join(facesDir, ALIGNMENTS_FILE))?.options;
  return typeof o?.size === 'number' && typeof o?.margin === 'number' ? { size: o.size, margin: o.margin } : DEFAULT_CROP;
}

/** The ground-truth folder --truth names, or a UsageError. */
function truthOption(dir: string): string {
  try {
    return truthDir(dir);
  } catch (e) {
    throw new UsageError(`--truth: ${(e as Error).message}`);
  }
}

export const evalCommand = defineCommand({
  summary: 'measure reconstruction and swap quality',
  notes: 'Two forms: --model DIR [--model DIR ...] --a DIR --b DIR (faces), or --model DIR --video CLIP (a video swap).',
  options: OPTIONS,
  async run(values) {
    const models = values.model.filter((m) => m !== '');
    if (models.length === 0) throw new UsageError('--model is required (see deepfake-lab eval --help)');
    if (values.video !== undefined) return videoCommand(models[0]!, values.video, values);
    const { a, b } = values;
    if (a === undefined || a === '') throw new UsageError('--a is required (see deepfake-lab eval --help)');
    if (b === undefined || b === '') throw new UsageError('--b is required (see deepfake-lab eval --help)');
    const maxFaces = values['max-faces'];
    const truth = values.truth !== undefined ? truthOption(values.truth) : null;
    const choice = await initBackend();
    // Ground-truth pairs, aligned the way the --a faces were extracted.
    const truthLoader = truth !== null ? (size: number, cropFraction: number) => loadTruthFaces(truth, { geometry: extractionGeometry(a), size, cropFraction, max: maxFaces }) : undefined;
    if (models.length > 1) return compareCommand(models, values, { a, b }, maxFaces, truthLoader, choice.backend);
    const modelDir = models[0]!;
    const report = await asUsage(() => evaluateModel({
      modelDir,
      log: (line) => process.stderr.write(`eval: ${line}\n`),
      data: { a, b },
      maxFaces,
      swapMetrics: faceApiSwapMetrics,
      previewFile: values.preview,
      truth: truthLoader,
    }));
    const r = report.reconstruction;
    const fmt = (x: number | null, d: number) => (x === null ? '-' : x.toFixed(d));
    const text = [
      `model at step ${report.step} (${report.checkpoint}), backend ${choice.backend}`,
      `reconstruction a: PSNR ${fmt(r.a.psnr, 2)} dB, SSIM ${fmt(r.a.ssim, 3)} on ${r.a.faces} ${r.a.source} faces`,
      `reconstruction b: PSNR ${fmt(r.b.psnr, 2)} dB, SSIM ${fmt(r.b.ssim, 3)} on ${r.b.faces} ${r.b.source} faces`,
      `identity transfer a->b ${fmt(report.swap.identityTransfer.a2b, 2)}, b->a ${fmt(report.swap.identityTransfer.b2a, 2)} (nearer the target than the source)`,
      `identity verification a->b ${fmt(report.swap.verification.a2b, 2)}, b->a ${fmt(report.swap.verification.b2a, 2)} (as close to the target as 95% of its own photos; ` +
        `median distance ${fmt(report.swap.descriptorDistance.a2b, 2)}/${fmt(report.swap.descriptorDistance.b2a, 2)}, real faces ${fmt(report.swap.descriptorDistance.realB, 2)}/${fmt(report.swap.descriptorDistance.realA, 2)})`,
      `sharpness ratio a->b ${fmt(report.swap.sharpness.a2b, 2)}, b->a ${fmt(report.swap.sharpness.b2a, 2)} (Laplacian variance in the face mask, swaps over the target's real faces)`,
      `landmark error a->b ${fmt(report.swap.landmarkError.a2b, 3)}, b->a ${fmt(report.swap.landmarkError.b2a, 3)} (of the inter-ocular distance)`,
      report.swap.truth
        ? `swap vs ground truth (${report.swap.truth.pairs} pairs): a->b PSNR ${fmt(report.swap.truth.a2b.psnr, 2)} dB, SSIM ${fmt(report.swap.truth.a2b.ssim, 3)}; ` +
          `b->a PSNR ${fmt(report.swap.truth.b2a.psnr, 2)} dB, SSIM ${fmt(report.swap.truth.b2a.ssim, 3)}; ` +
          `unswapped PSNR ${fmt(report.swap.truth.unswapped.psnr, 2)} dB, SSIM ${fmt(report.swap.truth.unswapped.ssim, 3)}`
        : 'swap vs ground truth: - (give --truth DIR from deepfake-lab samples)',
      `swap preview ${report.swap.preview ?? '-'}`,
    ].join('\n');
    return { result: { ...report, backend: choice.backend }, text };
  },
});

/** `eval --video`: swap the clip twice in memory (per-frame and smoothed landmarks) and measure both. */
async function videoCommand(modelDir: string, clip: string, values: EvalValues): Promise<CommandResult> {
  const missing = ffmpegMissing();
  if (missing) throw new UsageError(missing);
  const truth = values.truth ?? null;
  for (const [name, file] of [['video', clip], ['truth', truth]] as const) {
    if (file === null) continue;
    try {
      await probeVideo(file);
    } catch (e) {
      if (e instanceof VideoRefused) throw new UsageError(`--${name} ${file}: ${e.message}`);
      throw e;
    }
  }
  if (truth !== null) {
    try {
      truthClipOf(truth);
    } catch (e) {
      throw new UsageError(`--truth ${(e as Error).message}`);
    }
  }
  const choice = await initBackend();
  const model = await asUsage(() => loadSwapModel(modelDir, { log: (line) => process.stderr.write(`eval: ${line}\n`) }));
  try {
    const to = values.to ?? model.identities[model.identities.length - 1]!;
    if (!model.identities.includes(to)) throw new UsageError(`--to must be one of the model's identities (${model.identities.join(', ')}), got ${to}`);
    const smooth = { strength: values.smooth };
    const detector = await createDetector('ssd', 0.5);
    const temporal = await asUsage(() => measureVideo(model, clip, { to, detector, person: null, minScore: 0.5, minFace: 40, smooth, swap: {}, truth, progressStream: process.stderr }));
    const fmt = (x: number | null | undefined, d = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));
    const text = [
      `${path.basename(clip)}: ${temporal.frames} frames swapped to "${to}" by the model at step ${model.source.step ?? '-'}, backend ${choice.backend}, smoothing strength ${smooth.strength}`,
      `landmark jitter ${fmt(temporal.jitter.raw, 4)} per-frame -> ${fmt(temporal.jitter.smoothed, 4)} smoothed (${fmt(100 * temporal.jitter.reduction, 0)}% less; eye distances per frame squared${temporal.jitter.againstTruth ? ', beyond the true motion' : ''})`,
      `flicker ${fmt(temporal.flicker.raw)} -> ${fmt(temporal.flicker.smoothed)} (face colour change per frame over the ${temporal.flicker.reference} clip's)`,
      temporal.truthPsnr ? `ground-truth PSNR over the face ${fmt(temporal.truthPsnr.raw)} -> ${fmt(temporal.truthPsnr.smoothed)} dB` : 'ground-truth PSNR: - (give --truth CLIP: the truth.mp4 of deepfake-lab samples --video)',
    ].join('\n');
    return { result: { video: path.resolve(clip), truth: truth && path.resolve(truth), to, smooth, model: model.source, backend: choice.backend, temporal }, text };
  } finally {
    model.dispose();
  }
}

/** A folder or model that is not there is unusable input (exit 2), not a failure of eval. */
async function asUsage<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0]!;
    // A damaged file (a checkpoint with no usable one before it, an alignments.json) is unusable input too.
    if (/no checkpoint|ENOENT|not a folder|ENOTDIR/.test(msg) || e instanceof CorruptFile) throw new UsageError(msg);
    throw e;
  }
}

/** Several models on the same faces: JSON `runs[]` (the top level stays the first model's), a grid and a page. */
async function compareCommand(models: string[], values: EvalValues, faces: { a: string; b: string }, maxFaces: number, truth: Parameters<typeof evaluateModel>[0]['truth'], backend: string): Promise<CommandResult> {
  const gridFile = values.preview !== undefined ? path.resolve(values.preview) : path.join(path.resolve(models[0]!), 'previews', 'compare.png');
  const c: RunComparison = await asUsage(() => compareRuns(models, { faces, maxFaces, swapMetrics: faceApiSwapMetrics, truth, gridFile, warn: (line) => process.stderr.write(line + '\n') }));
  const page = await writeRunComparisonPage(gridFile.replace(/\.png$/i, '') + '.html', c);
  const runs = c.runs.map((r) => ({ model: r.modelDir, name: r.name, minutes: r.minutes, ...r.eval, settings: r.settings }));
  const fmt = (x: number | null | undefined) => (x === null || x === undefined ? '-' : x.toFixed(2));
  const text = [
    `${c.runs.length} models on the same faces, backend ${backend}`,
    ...c.runs.map((r) => `${r.name}: step ${r.step}, ${r.minutes.toFixed(1)} min; reconstruction ${fmt(r.eval.reconstruction.a.psnr)} / ${fmt(r.eval.reconstruction.b.psnr)} dB` +
      (r.eval.swap.truth ? `; swap vs truth ${fmt(r.eval.swap.truth.a2b.psnr)} / ${fmt(r.eval.swap.truth.b2a.psnr)} dB` : '')),
    `settings that differ: ${c.differing.length ? c.differing.map((k) => `${k} (${c.runs.map((r) => String(r.settings[k] ?? '-')).join(' / ')})`).join('; ') : 'none'}`,
    `grid ${c.grid ?? '-'}`,
    `page ${page}`,
  ].join('\n');
  return { result: { ...c.runs[0]!.eval, backend, runs, differing: c.differing, grid: c.grid, page }, text };
}
