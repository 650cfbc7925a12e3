// `bench --quality`: which recipe makes the best swap in a fixed wall-clock budget on this machine?
// Every recipe trains from the same seed on the same faces for the same minutes of training steps,
// one after the other (never side by side: they would share the cores), and is scored by the same
// judge (quality-judge.ts) at 2 and 5 minutes and at the end; the pauses for scoring do not count.
//
// The data: by default the built-in people, rendered and extracted once into a cache folder; or two
// folders of aligned faces (--a, --b), scored without ground truth. Results are cached per recipe,
// budget, seed and data, so a long comparison resumes where it stopped, even in another session.

import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { extractFaces } from '../faces/extract';
import { writeFileAtomic } from '../util/fsutil';
import { CorruptFile, JsonNumber, readJsonFile } from '../util/jsonfile';
import { encodeImage, listImageFiles, tensorToImage, decodeImage, type RgbImage } from '../util/image';
import { writeSamples } from '../samples/dataset';
import { truthDir } from '../samples/truth';
import { swapModelOf, trainingGeometry } from '../swap/model';
import { resolveRecipe, type RecipeName, type RecipeOverrides } from '../train/recipes';
import { runTraining } from '../train/run';
import { TrainingSession } from '../train/session';
import { imageGrid } from '../util/image-grid';
import { QualityJudge, qualityScoresShape, type Ceiling, type QualityData } from './quality-judge';

/**
 * Bump when scoring or training changes what a cached result would say (4: photo scores sharpen the
 * pasted face; 5: a warping decoder's photo is chosen with the recognition net).
 */
const QUALITY_VERSION = 5;
/** Truth pairs shown per direction in the comparison grid. */
const GRID_PAIRS = 6;

// Keys in the order runRecipe writes them, so a cached entry prints like a fresh one.
const QualityEntrySchema = z.object({
  recipe: z.string(),
  /** Minutes of training steps at this time point. */
  minutes: z.number(),
  steps: z.number(),
  facesPerSecond: JsonNumber,
  /** Mean loss over the last 50 steps, per identity. */
  loss: z.record(z.string(), JsonNumber),
  ...qualityScoresShape,
});
export type QualityEntry = z.infer<typeof QualityEntrySchema>;

const qualityRunShape = {
  recipe: z.string(),
  entries: z.array(QualityEntrySchema),
  /** The model as it ended (a normal model folder: eval and swap read it). */
  model: z.string(),
  /** The truth swaps for the grid: a PNG strip, A->B pairs then B->A pairs; null without truth. */
  strip: z.string().nullable(),
  cached: z.boolean(),
};
const QualityRunSchema = z.object(qualityRunShape);
export type QualityRun = z.infer<typeof QualityRunSchema>;

/** A recipe's result.json in the cache: the run and the key of what it was run with. */
const CachedRunSchema = z.object({
  key: z.string(),
  ...qualityRunShape,
});

export interface QualityOptions {
  recipes: RecipeName[];
  minutes: number;
  seed: number;
  overrides?: RecipeOverrides;
  data: QualityData;
  cacheDir: string;
  outDir: string;
  /** Score the swap in whole photos at the end (built-in data only). Default true. */
  photos?: boolean;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface QualityReport {
  minutes: number;
  seed: number;
  data: { a: string; b: string; truth: string | null };
  quality: QualityEntry[];
  ceiling: Ceiling;
  runs: Array<{ recipe: string; model: string; cached: boolean }>;
  grid: string | null;
  interrupted: boolean;
}

/** The time points a budget is scored at: 2 and 5 minutes when they fall inside it, and the end. */
export function timePoints(minutes: number): number[] {
  return [...[2, 5].filter((m) => m < minutes - 1e-9), minutes];
}

/**
 * The built-in people as benchmark data: rendered (samples) and extracted (extract) into
 * `cacheDir` once; both stages skip finished work, so later runs only check.
 */
export async function builtinData(cacheDir: string, options: { count?: number; pairs?: number; seed?: number; log?: (line: string) => void } = {}): Promise<QualityData> {
  const { count = 300, pairs = 64, seed = 1, log = () => undefined } = options;
  const dir = path.join(cacheDir, `builtin-s${seed}-n${count}-p${pairs}`);
  const faces = (id: 'a' | 'b') => path.join(dir, id, 'faces');
  const ready = path.join(dir, '.ready');
  if (!fs.existsSync(ready)) {
    log(`rendering and extracting the built-in people into ${dir} (once; several minutes)`);
    await writeSamples(dir, { count, pairs, seed });
    for (const id of ['a', 'b'] as const) await extractFaces(path.join(dir, id, 'raw'), faces(id), { identity: 'dominant' });
    await writeFileAtomic(ready, new Date().toISOString() + '\n');
  }
  return { a: faces('a'), b: faces('b'), truth: truthDir(dir), geometry: trainingGeometry(faces('a')) };
}

/** Two folders of aligned faces as benchmark data (no ground truth). */
export function folderData(a: string, b: string): QualityData {
  return { a: path.resolve(a), b: path.resolve(b), truth: null, geometry: trainingGeometry(a) };
}

/** A fingerprint of the data: file names and sizes of both folders (and the truth manifest). */
async function dataId(data: QualityData): Promise<string> {
  const h = crypto.createHash('sha256');
  for (const dir of [data.a, data.b]) {
    for (const f of (await listImageFiles(dir)).files) h.update(path.basename(f)).update(String(fs.statSync(f).size));
  }
  if (data.truth) h.update(fs.readFileSync(path.join(data.truth, 'manifest.jsonl')));
  return h.digest('hex').slice(0, 16);
}

function meanLoss(session: TrainingSession): Record<string, number> {
  const last = session.history.slice(-50);
  return Object.fromEntries(session.identities.map((id) => [id, Math.round((last.reduce((s, e) => s + e.loss[id], 0) / Math.max(1, last.length)) * 1e5) / 1e5]));
}

/** Train one recipe for the budget, scoring at every time point. */
async function runRecipe(name: RecipeName, judge: QualityJudge, options: QualityOptions, key: string, runDir: string): Promise<QualityRun | null> {
  const log = options.log ?? (() => undefined);
  const { config, settings } = resolveRecipe(name, { ...options.overrides, seed: options.seed });
  const modelDir = path.join(runDir, 'model');
  fs.rmSync(modelDir, { recursive: true, force: true }); // a run is whole or redone: no half-trained resumes
  const data = { a: options.data.a, b: options.data.b };
  const session = await TrainingSession.open({ modelDir, data, config, settings, log: () => undefined });
  const entries: QualityEntry[] = [];
  let strip: string | null = null;
  try {
    const cycle = session.beginCycle({ seconds: options.minutes * 60 });
    let lastLog = performance.now();
    for (const point of timePoints(options.minutes)) {
      const r = await runTraining(session, {
        seconds: point * 60 - cycle.elapsedSeconds,
        save: false,
        stream: null,
        signal: options.signal,
        onStep: (e) => {
          if (performance.now() - lastLog < 15_000) return;
          lastLog = performance.now();
          const loss = Object.entries(e.loss).map(([id, l]) => `${id} ${l.toFixed(4)}`).join(' ');
          log(`${name}: ${(cycle.elapsedSeconds / 60).toFixed(1)}/${options.minutes} min, step ${e.step}, ${e.facesPerSecond.toFixed(0)} faces/s, loss ${loss}, lr ${(e.lr ?? 0).toExponential(1)}`);
        },
      });
      if (r.stopped && !r.diverged) return null;
      const last = point === options.minutes;
      const photos = last && options.photos !== false ? swapModelOf(session.ae, settings.cropFraction, options.data.geometry, data) : null;
      const scores = await judge.score(session.ae, settings.cropFraction, { photos });
      const entry: QualityEntry = {
        recipe: name,
        minutes: point,
        steps: session.step,
        facesPerSecond: Math.round(((session.step * settings.batchSize * session.identities.length) / cycle.elapsedSeconds) * 10) / 10,
        loss: meanLoss(session),
        ...scores,
      };
      entries.push(entry);
      log(`${name} at ${point} min: ${describeEntry(entry)}`);
    }
    await session.saveCheckpoint();
    const swaps = await judge.truthSwaps(session.ae, settings.cropFraction, GRID_PAIRS);
    if (swaps) {
      const column = tf.tidy(() => tf.concat([swaps.a2b, swaps.b2a]).reshape([-1, swaps.a2b.shape[2], 3]) as tf.Tensor3D);
      strip = path.join(runDir, 'truth-swaps.png');
      await writeFileAtomic(strip, await encodeImage(await tensorToImage(column), 'png'));
      tf.dispose([column, swaps.a2b, swaps.b2a]);
    }
  } finally {
    session.dispose();
  }
  const run: QualityRun = { recipe: name, entries, model: modelDir, strip, cached: false };
  await writeFileAtomic(path.join(runDir, 'result.json'), JSON.stringify({ key, ...run }, null, 2) + '\n');
  return run;
}

/** One line per time point: what a person reads. */
export function describeEntry(e: QualityEntry): string {
  const f = (x: number | null | undefined, d = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));
  const truth = e.truth ? `truth PSNR ${f(e.truth.a2b.psnr)}/${f(e.truth.b2a.psnr)} dB SSIM ${f(e.truth.a2b.ssim, 3)}/${f(e.truth.b2a.ssim, 3)}, ` : '';
  return (
    `${e.steps} steps, ${f(e.facesPerSecond, 0)} faces/s, ${truth}verification ${f(e.verification.a2b)}/${f(e.verification.b2a)}, ` +
    `sharpness ${f(e.sharpness.a2b)}/${f(e.sharpness.b2a)}, reconstruction ${f(e.reconstruction.a.psnr)}/${f(e.reconstruction.b.psnr)} dB, ` +
    `code mixing ${f(e.overlap.mixing)}` + (e.photo ? `, in the photo: sharpness ${f(e.photo.sharpness.a2b)}/${f(e.photo.sharpness.b2a)} (at most ${f(e.photo.ceiling.a2b)}/${f(e.photo.ceiling.b2a)} at this input size)` : '')
  );
}

/** The comparison grid: per truth pair, the source, the right answer, then every recipe's swap. */
async function writeGrid(file: string, judge: QualityJudge, runs: QualityRun[]): Promise<string | null> {
  const withStrips = runs.filter((r) => r.strip && fs.existsSync(r.strip));
  const truth = judge.truthFaces(GRID_PAIRS);
  if (!truth || withStrips.length === 0) return null;
  const toImages = async (t: tf.Tensor4D) => Promise.all(tf.unstack(t).map(async (x) => {
    const img = await tensorToImage(x as tf.Tensor3D);
    x.dispose();
    return img;
  }));
  const ta = await toImages(truth.a), tb = await toImages(truth.b);
  tf.dispose([truth.a, truth.b]);
  const strips: RgbImage[][] = [];
  for (const r of withStrips) {
    const img = await decodeImage(r.strip!);
    const s = img.width, n = img.height / s;
    strips.push(Array.from({ length: n }, (_, i) => ({ width: s, height: s, data: img.data.subarray(i * s * s * 3, (i + 1) * s * s * 3) })));
  }
  const k = ta.length;
  const cells: RgbImage[] = [], captions: string[] = [];
  for (const dir of ['a2b', 'b2a'] as const)
    for (let i = 0; i < k; i++) {
      const [src, answer] = dir === 'a2b' ? [ta[i], tb[i]] : [tb[i], ta[i]];
      cells.push(src, answer, ...strips.map((s) => s[(dir === 'a2b' ? 0 : k) + i]));
      captions.push(dir === 'a2b' ? 'A (source)' : 'B (source)', dir === 'a2b' ? 'B: the truth' : 'A: the truth', ...withStrips.map((r) => r.recipe));
    }
  await writeFileAtomic(file, imageGrid(cells, { columns: 2 + withStrips.length, cell: 128, captions }));
  return file;
}


export async function runQualityBenchmark(options: QualityOptions): Promise<QualityReport> {
  const log = options.log ?? (() => undefined);
  const id = await dataId(options.data);
  const holdout = resolveRecipe(options.recipes[0]).settings.holdout;
  log(`describing the real faces (${options.data.a}, ${options.data.b})...`);
  const judge = await QualityJudge.create(options.data, holdout);
  const runs: QualityRun[] = [];
  let interrupted = false;
  try {
    for (const name of options.recipes) {
      const resolved = resolveRecipe(name, { ...options.overrides, seed: options.seed });
      const key = crypto.createHash('sha256').update(JSON.stringify({ v: QUALITY_VERSION, resolved, minutes: options.minutes, data: id, photos: options.photos !== false })).digest('hex').slice(0, 16);
      const runDir = path.join(options.cacheDir, 'runs', `${name}-${key}`);
      const cached = path.join(runDir, 'result.json');
      if (fs.existsSync(cached)) {
        let run: (QualityRun & { key: string }) | null = null;
        try {
          run = readJsonFile(cached, CachedRunSchema);
        } catch (e) {
          if (!(e instanceof CorruptFile)) throw e;
          // runRecipe replaces the file when it finishes.
          log(`${e.message}; running ${name} again`);
        }
        if (run && run.key === key) {
          log(`${name}: cached (${runDir})`);
          runs.push({ ...run, cached: true });
          continue;
        }
      }
      log(`${name}: training for ${options.minutes} min (${resolved.config.inputSize} px, batch ${resolved.settings.batchSize})`);
      const run = await runRecipe(name, judge, options, key, runDir);
      if (!run) {
        interrupted = true;
        log(`${name}: interrupted; finished recipes are cached, run the same command again to continue`);
        break;
      }
      runs.push(run);
    }
    await fs.promises.mkdir(options.outDir, { recursive: true });
    const quality = runs.flatMap((r) => r.entries);
    const grid = await writeGrid(path.join(options.outDir, 'quality-grid.png'), judge, runs);
    return {
      minutes: options.minutes,
      seed: options.seed,
      data: { a: options.data.a, b: options.data.b, truth: options.data.truth },
      quality,
      ceiling: judge.ceiling,
      runs: runs.map((r) => ({ recipe: r.recipe, model: r.model, cached: r.cached })),
      grid,
      interrupted,
    };
  } finally {
    judge.dispose();
  }
}
