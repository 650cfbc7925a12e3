// Runs side by side: a learner changes one knob, trains again into another folder, and wants to
// see what changed. compareRuns reads each model folder (its newest checkpoint's settings and
// model configuration, its loss history), scores every model on the same faces with `eval`'s
// measures, and lays the same held-out faces through every model in one grid. Which settings
// differ between the runs is computed, so the table can point at the cause.

import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { SCORING_FRAME, toScoringFrame } from '../benchmark/quality-judge';
import { tensorToImage, type RgbImage } from '../util/image';
import { disposeAutoencoder, swapDecodeRgb } from '../model/builder';
import { latestCheckpoint, loadCheckpoint, readCheckpointInfo } from '../train/checkpoint';
import { evaluateModel, type EvalReport, type SwapMetricsFn, type TruthLoader } from '../train/evaluate';
import { loadFaces, splitHoldout, subset, type FaceSet } from '../data/face-set';
import { readHistory, type HistoryEntry } from '../train/history';
import { facesToTensor } from '../data/face-set';
import { imageGrid } from '../util/image-grid';
import { writeFileAtomic } from '../util/fsutil';

/** A setting's value as the table shows it. */
export type SettingValue = string | number | boolean | null;

export interface RunSummary {
  /** The model folder's name (made unique with its parent's when two share one). */
  name: string;
  modelDir: string;
  checkpoint: string;
  step: number;
  /** Training time in minutes: the sum of the logged step times, so pauses between resumed runs do not count. */
  minutes: number;
  /** Every setting and model option, flattened: 'train.loss.ssimWeight', 'model.latentSize'... */
  settings: Record<string, SettingValue>;
  history: HistoryEntry[];
}

export interface ComparedRun extends RunSummary {
  eval: EvalReport;
}

export interface RunComparison {
  runs: ComparedRun[];
  /** Setting names whose values are not the same in every run, in the order of `settings`. */
  differing: string[];
  /** The faces grid: real A, each run's A→B, real B, each run's B→A (PNG path); null without faces. */
  grid: string | null;
  /** The folders the faces came from. */
  faces: { a: string; b: string };
}

/** Nested settings as dotted names; arrays as one comma-joined value. */
export function flattenSettings(value: unknown, prefix: string, out: Record<string, SettingValue> = {}): Record<string, SettingValue> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix) out[prefix] = '{}';
    for (const [k, v] of entries) flattenSettings(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (Array.isArray(value)) {
    out[prefix] = value.map(String).join(', ');
  } else {
    out[prefix] = value === undefined ? null : (value as SettingValue);
  }
  return out;
}

/** Training minutes at each history entry: the running sum of step times. */
export function cumulativeMinutes(history: readonly HistoryEntry[]): number[] {
  let ms = 0;
  return history.map((e) => (ms += Number.isFinite(e.stepMs) ? e.stepMs : 0) / 60_000);
}

/** The names whose values differ between the runs (a name missing from a run counts as differing). */
export function differingSettings(runs: ReadonlyArray<Pick<RunSummary, 'settings'>>): string[] {
  const names: string[] = [];
  for (const r of runs) for (const k of Object.keys(r.settings)) if (!names.includes(k)) names.push(k);
  return names.filter((k) => runs.some((r) => r.settings[k] !== runs[0]!.settings[k]));
}

/** One model folder: its newest checkpoint's settings and configuration, and its loss history. */
export async function summarizeRun(modelDir: string, warn?: (line: string) => void): Promise<RunSummary> {
  const dir = path.resolve(modelDir);
  const checkpoint = latestCheckpoint(dir);
  if (!checkpoint) throw new Error(`${modelDir} holds no checkpoint (train first)`);
  const info = await readCheckpointInfo(checkpoint);
  // The trained steps only: lines after the checkpoint are steps a resumed run trains again.
  const history = readHistory(dir, warn).filter((e) => e.step <= info.step);
  const settings = { ...flattenSettings(info.config, 'model'), ...flattenSettings(info.settings, 'train') };
  return { name: path.basename(dir), modelDir: dir, checkpoint, step: info.step, minutes: cumulativeMinutes(history).at(-1) ?? 0, settings, history };
}

export interface CompareRunsOptions {
  /** Faces to score on; default: the first run's training folders (their held-out part). */
  faces?: { a: string; b: string };
  maxFaces?: number;
  swapMetrics?: SwapMetricsFn;
  truth?: TruthLoader;
  /** Where to write the faces grid; null: none. Default <first model>/previews/compare.png. */
  gridFile?: string | null;
  /** Faces per identity in the grid. Default 4. */
  gridFaces?: number;
  warn?: (line: string) => void;
}

/** Make run names unique: two folders called 'model' become 'lite/model' and 'tiny/model'. */
function uniqueNames(runs: RunSummary[]): void {
  for (const r of runs)
    if (runs.filter((o) => o.name === r.name).length > 1) r.name = `${path.basename(path.dirname(r.modelDir))}/${r.name}`;
}

/**
 * The same faces for every model: the held-out part of the folder under the first run's split
 * (chosen by file name, so every model's crop and size of them are the same photos), or the first
 * faces when nothing is held out.
 */
function gridFiles(set: FaceSet, holdout: number, k: number): string[] {
  const held = splitHoldout(set.files, holdout).heldOut;
  return (held.length ? held.map((i) => set.files[i]!) : set.files).slice(0, k);
}

async function framed(x: tf.Tensor4D): Promise<RgbImage[]> {
  const faces = tf.unstack(x) as tf.Tensor3D[];
  const out: RgbImage[] = [];
  for (const f of faces) out.push(await tensorToImage(f));
  tf.dispose(faces);
  return out;
}

async function writeGrid(file: string, runs: RunSummary[], faces: { a: string; b: string }, k: number): Promise<string | null> {
  const first = runs[0]!;
  const holdout = Number(first.settings['train.holdout'] ?? 0);
  const { size, cropFraction } = SCORING_FRAME;
  const real = { a: await loadFaces(faces.a, { size, cropFraction }), b: await loadFaces(faces.b, { size, cropFraction }) };
  const files = { a: gridFiles(real.a, holdout, k), b: gridFiles(real.b, holdout, k) };
  const n = Math.min(files.a.length, files.b.length);
  if (n === 0) return null;
  const pick = (set: FaceSet, names: string[]) => subset(set, names.slice(0, n).map((f) => set.files.indexOf(f)));
  const rows: Array<{ caption: string; images: RgbImage[] }> = [];
  const swaps: Record<'a' | 'b', Array<{ caption: string; images: RgbImage[] }>> = { a: [], b: [] };
  for (const run of runs) {
    const ck = await loadCheckpoint(run.checkpoint);
    for (const o of Object.values(ck.optimizers)) o.dispose();
    try {
      const s = ck.ae.config.inputSize, crop = ck.state.settings.cropFraction;
      for (const [from, to] of [['a', 'b'], ['b', 'a']] as const) {
        const own = pick(await loadFaces(faces[from], { size: s, cropFraction: crop }), files[from]);
        const x = facesToTensor(own.pixels, s);
        // In the scoring frame, so models of other sizes and crops show the same part of the face.
        const y = tf.tidy(() => toScoringFrame(swapDecodeRgb(ck.ae, x, to), crop));
        swaps[from].push({ caption: `${run.name}: ${from.toUpperCase()}→${to.toUpperCase()}`, images: await framed(y) });
        tf.dispose([x, y]);
      }
    } finally {
      disposeAutoencoder(ck.ae);
    }
  }
  const asImages = (set: FaceSet) => set.pixels.map((data) => ({ data, width: size, height: size }));
  rows.push({ caption: 'A (real)', images: asImages(pick(real.a, files.a)) }, ...swaps.a);
  rows.push({ caption: 'B (real)', images: asImages(pick(real.b, files.b)) }, ...swaps.b);
  const png = imageGrid(rows.flatMap((r) => r.images), { columns: n, captions: rows.flatMap((r) => r.images.map(() => r.caption)) });
  await writeFileAtomic(file, png);
  return file;
}

/** Summaries, eval scores on the same faces, the differing settings and the faces grid of several model folders. */
export async function compareRuns(modelDirs: string[], options: CompareRunsOptions = {}): Promise<RunComparison> {
  if (modelDirs.length === 0) throw new Error('compareRuns needs at least one model folder');
  const summaries: RunSummary[] = [];
  for (const dir of modelDirs) summaries.push(await summarizeRun(dir, options.warn));
  uniqueNames(summaries);
  const first = summaries[0]!;
  const faces = options.faces ?? { a: String(first.settings['train.data.a']), b: String(first.settings['train.data.b']) };
  const runs: ComparedRun[] = [];
  for (const s of summaries) {
    const report = await evaluateModel({ modelDir: s.modelDir, data: faces, maxFaces: options.maxFaces, swapMetrics: options.swapMetrics, truth: options.truth, previewFile: null });
    runs.push({ ...s, eval: report });
  }
  const gridFile = options.gridFile === undefined ? path.join(first.modelDir, 'previews', 'compare.png') : options.gridFile;
  const grid = gridFile ? await writeGrid(gridFile, summaries, faces, options.gridFaces ?? 4) : null;
  return { runs, differing: differingSettings(summaries), grid, faces };
}
