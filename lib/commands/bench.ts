// `deepfake-lab bench`: how fast this machine trains and extracts, measured side by side with
// PyTorch when asked (--reference torch). A tool, not a test: nothing here asserts a speed.

import { fork, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { z } from 'zod';
import { BACKENDS, describeChoice, initBackend } from '../engine/backend';
import { formatProfile, KernelProfileSchema, type KernelProfile } from '../benchmark/kernel-profile';
import { matmulGflops, trainingWorkload, type TrainSpeed } from '../benchmark/train-speed';
import { median } from '../util/stats';
import { extractFaces } from '../faces/extract';
import { faceBackendInUse, setFaceBackend } from '../faces/faceapi';
import { NATIVE_BACKEND } from '../engine/native/native-backend';
import { bf16Unavailable, isPrecision, type Precision } from '../engine/native/precision';
import { CorruptFile, parseJson } from '../util/jsonfile';
import { isPresetName } from '../model/config';
import { jupyterPython } from '../util/notebook-runner';
import { PROJECT_ROOT } from '../util/project';
import { writeQualityChart } from '../viz/charts';
import { builtinData, describeEntry, folderData, runQualityBenchmark } from '../benchmark/quality';
import { DEFAULT_RECIPE, recipeNames, type RecipeName } from '../train/recipes';
import { defineCommand, UsageError } from './command';
import { choice, flag, int, num, parseValue, text, texts, type ValuesOf } from './options';
import { PRECISION_OPTION, RECIPE_OPTIONS, recipeOption, recipeOverrides } from './recipe-options';

const OPTIONS = {
  presets: text('LIST', 'model presets to time, comma-separated (default lite,original)'),
  steps: int('N', 'timed steps per run', { min: 1, max: 1000, default: 5 }),
  reference: choice(['torch'], 'time PyTorch on the same model, side by side'),
  runs: int('N', 'runs, alternating ours and the reference (the median is reported)', { min: 1, max: 20, default: 1 }),
  profile: flag('time each kernel of the first run'),
  precision: text('P', 'fp32, bf16, fp32,bf16 or all (default fp32); with --quality fp32 or bf16'),
  backend: choice(BACKENDS, 'the TensorFlow.js backend to time'),
  'no-extract': flag('skip the extraction timing'),
  quality: flag('instead: train recipes for the same budget and score their swaps'),
  minutes: num('M', '--quality: minutes of training per recipe', { min: 0.01, max: 24 * 60, default: 10 }),
  recipe: texts('NAME', '--quality: a recipe to train (repeatable, or all; default the default recipe)'),
  a: text('DIR', '--quality: aligned faces of A (default the built-in people)'),
  b: text('DIR', '--quality: aligned faces of B'),
  seed: int('S', '--quality: random seed', { min: 0, max: 2 ** 31 - 1, default: 1 }),
  cache: text('DIR', '--quality: where trained recipes are cached (default data/cache/quality)'),
  out: text('DIR', '--quality: where the grid and chart go (default output/bench-quality)'),
  'no-photos': flag('--quality: no grid of swapped photos'),
  count: int('N', '--quality: photos per built-in person', { min: 10, max: 100000, default: 300 }),
  pairs: int('N', '--quality: ground-truth pairs of the built-in people', { min: 1, max: 100000, default: 64 }),
  ...RECIPE_OPTIONS,
  // Speed: batch sizes to time (16,64); --quality: the recipe's batch override (RECIPE_OPTIONS.batch).
  batch: text('N[,N]', 'speed: batch sizes, comma-separated (default 16); --quality: faces per identity per step (1 to 4096)'),
};
type BenchValues = ValuesOf<typeof OPTIONS>;

type Measured = TrainSpeed & { peakRssMB?: number; profile?: KernelProfile; precision?: Precision; convImplementation?: string | null };

// The children's last stdout line (the worker's profile: KernelProfileSchema). Loose objects: what
// else they report (the worker's backend, torch's parameter count) goes on into the JSON result, as before.
const WorkerReplySchema = z.union([
  z.looseObject({
    preset: z.string(),
    batch: z.number(),
    facesPerSecond: z.number(),
    stepMs: z.number(),
    prepMsPerBatch: z.number(),
    gflopsPerStep: z.number(),
    effectiveGflops: z.number(),
    steps: z.number(),
    error: z.string().optional(),
    peakRssMB: z.number().optional(),
    profile: KernelProfileSchema.optional(),
    precision: z.enum(['fp32', 'bf16']).optional(),
    convImplementation: z.string().nullable().optional(),
  }),
  // What the worker prints when it fails.
  z.looseObject({ error: z.string() }),
]);
const ReferenceSchema = z.looseObject({
  preset: z.string(),
  batch: z.number(),
  facesPerSecond: z.number().optional(),
  stepMs: z.number().optional(),
  threads: z.number().optional(),
  torch: z.string().optional(),
  error: z.string().optional(),
});
type Reference = z.infer<typeof ReferenceSchema>;

/**
 * Untimed steps before the timed ones, on both sides of the comparison: at least one, and until
 * this many seconds have passed. Our lite step takes ~2 s of steps to reach its steady speed
 * (lib/benchmark/train-speed.ts); a training run lasts minutes, so the steady speed is the one to report.
 */
const WARMUP_SECONDS = 2;

/** One preset in a child process (see lib/benchmark/worker.ts). */
function runWorker(preset: string, batch: number, steps: number, profile: boolean, precision: Precision): Promise<Measured> {
  return new Promise((resolve) => {
    const child = fork(path.join(PROJECT_ROOT, 'lib', 'benchmark', 'worker.ts'), [preset, String(batch), String(steps), profile ? 'profile' : '', precision, String(WARMUP_SECONDS)], {
      execArgv: ['--require', require.resolve('tsx/cjs')],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let out = '', err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code, signal) => {
      const last = out.trim().split('\n').pop() ?? '';
      try {
        const parsed = parseJson(last, WorkerReplySchema, `bench worker output (${preset})`);
        // The failure form carries only `error`; the table reads nothing else from such a row.
        resolve({ ...parsed, preset, batch, precision } as Measured);
      } catch (e) {
        // The wasm module aborts the process when it runs out of memory (the `original` preset).
        // A worker that exited cleanly with a reply of another shape is named as such.
        const shape = code === 0 && e instanceof CorruptFile && e.kind === 'shape' ? e.message : null;
        const why = /Aborted|out of memory|RangeError/i.test(err) ? 'out of memory on this backend' : (shape ?? `worker exited (${signal ?? code})`);
        resolve({ preset, batch, precision, error: why } as Measured);
      }
    });
  });
}

function torchReference(preset: string, batch: number, steps: number): Reference {
  const r = spawnSync(jupyterPython(), [path.join(PROJECT_ROOT, 'lib', 'benchmark', 'torch_reference.py'), '--preset', preset, '--batch', String(batch), '--steps', String(steps), '--warmup-seconds', String(WARMUP_SECONDS)], {
    encoding: 'utf8',
    timeout: 1800_000,
  });
  try {
    return parseJson(r.stdout.trim().split('\n').pop() ?? '', ReferenceSchema, 'torch reference output');
  } catch (e) {
    if (!(e instanceof CorruptFile)) throw e;
    const why = /No module named 'torch'/.test(r.stderr)
      ? 'PyTorch missing: apt-get install python3-torch'
      : r.status === 0 && e.kind === 'shape' ? e.message : (r.stderr.trim().split('\n').pop() ?? 'failed');
    return { preset, batch, error: why };
  }
}

interface ExtractionSpeed {
  imagesPerSecond: number;
  images: number;
  faces: number;
  /** Where face-api's nets ran. */
  faceBackend: string;
  /** Beside native: the same photos with face-api on wasm, timed in the same run, and native / wasm. */
  wasm?: { imagesPerSecond: number; faces: number };
  nativeOverWasm?: number;
}

/**
 * Extraction images/s on face-api's six demo photos (1920 px group photos, 22 faces), five times
 * over (30 photos; the duplicate check is off so that every copy is processed in full).
 */
async function extractionSpeed(): Promise<ExtractionSpeed> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deepfake-lab-bench-'));
  try {
    const photos = path.join(dir, 'photos'), warm = path.join(dir, 'warmup');
    fs.mkdirSync(photos);
    fs.mkdirSync(warm);
    for (let i = 1; i <= 6; i++) {
      const file = require.resolve(`@vladmandic/face-api/demo/sample${i}.jpg`);
      fs.copyFileSync(file, path.join(warm, `sample${i}.jpg`));
      for (let copy = 1; copy <= 5; copy++) fs.copyFileSync(file, path.join(photos, `sample${i}-${copy}.jpg`));
    }
    const time = async (label: string) => {
      // A pass over the six loads the nets and fills the kernels' caches; then the 30 are timed.
      await extractFaces(warm, path.join(dir, `${label}-warmup`), { progressStream: null, duplicateBits: -1 });
      return extractFaces(photos, path.join(dir, label), { progressStream: null, duplicateBits: -1 });
    };
    const faceBackend = await faceBackendInUse();
    const r = await time('faces');
    const out: ExtractionSpeed = { imagesPerSecond: r.imagesPerSecond, images: r.images, faces: r.faces, faceBackend };
    if (faceBackend === NATIVE_BACKEND) {
      setFaceBackend('wasm');
      try {
        if ((await faceBackendInUse()) === 'wasm') {
          const w = await time('wasm');
          out.wasm = { imagesPerSecond: w.imagesPerSecond, faces: w.faces };
          out.nativeOverWasm = Number((r.imagesPerSecond / w.imagesPerSecond).toFixed(2));
        }
      } finally {
        setFaceBackend('native');
      }
    }
    return out;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export const benchCommand = defineCommand({
  summary: 'measure training and extraction speed (optionally against PyTorch)',
  notes: 'Two forms: speed (--presets, --batch, --reference torch, --runs, --precision) and --quality (--minutes, --recipe, the recipe options).',
  options: OPTIONS,
  async run(values) {
    if (values.quality) return qualityBench(values);
    const presets = (values.presets ?? 'lite,original').split(',').map((s) => s.trim());
    for (const p of presets) if (!isPresetName(p)) throw new UsageError(`--presets: unknown preset ${p}`);
    const reference = values.reference;
    // Several batch sizes (--batch 16,64) and a backend (--backend webgpu) in one command: every case
    // a GPU needs measured. With one batch the result's keys are the preset names, as always;
    // with several, "preset@batch".
    const batches = [...new Set(String(values.batch ?? '16').split(',').map((b) => b.trim()))].map((b) => {
      const n = Number(b);
      if (!Number.isInteger(n) || n < 1 || n > 1024) throw new UsageError(`--batch must be whole numbers from 1 to 1024 (comma-separated), got ${b}`);
      return n;
    });
    if (values.backend !== undefined) process.env.DEEPFAKE_BACKEND = values.backend; // this process and its workers
    const keyOf = (c: { preset: string; batch: number }) => (batches.length > 1 ? `${c.preset}@${c.batch}` : c.preset);
    const cases = presets.flatMap((preset) => batches.map((batch) => ({ preset, batch, key: keyOf({ preset, batch }) })));
    const { steps, runs } = values;
    // `all`: fp32, and bf16 where it can run (npm run bench), so one command says whether it pays here.
    const asked = values.precision ?? 'fp32';
    const precisions = asked === 'all' ? ['fp32', 'bf16'] : [...new Set(asked.split(',').map((p) => p.trim()))];
    for (const p of precisions) if (!isPrecision(p)) throw new UsageError(`--precision must be fp32, bf16, fp32,bf16 or all, got ${p}`);
    const choice = await initBackend({ calibration: { workload: trainingWorkload() } });
    const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
    const bf16Why = precisions.includes('bf16') ? bf16Unavailable() : null;
    if (bf16Why && asked !== 'all') throw new UsageError(bf16Why);
    if (bf16Why) {
      log(`bf16 skipped: ${bf16Why}`);
      precisions.splice(precisions.indexOf('bf16'), 1);
    }

    log(`${describeChoice(choice)}; matrix-multiply peak...`);
    const peak = await matmulGflops();
    // Ours and PyTorch alternate within each run, so both see the same machine load; the ratio
    // reported is the median of the per-run ratios.
    // ours[preset] is the first precision asked for (fp32 unless only bf16 was); the ratio to
    // PyTorch's fp32 uses it. Other precisions: oursAt[precision][preset].
    const ours: Record<string, Measured[]> = {};
    const oursAt: Record<string, Record<string, Measured[]>> = {};
    const theirs: Record<string, Reference[]> = {};
    for (let run = 1; run <= runs; run++) {
      for (const { preset, batch, key } of cases) {
        for (const precision of precisions as Precision[]) {
          log(`${runs > 1 ? `run ${run}/${runs}: ` : ''}training ${preset}${precisions.length > 1 || precision !== 'fp32' ? ` in ${precision}` : ''}, batch ${batch}, ${steps} timed steps after ${WARMUP_SECONDS} s of warm-up...`);
          const m = await runWorker(preset, batch, steps, values.profile && run === 1, precision);
          ((oursAt[precision] ??= {})[key] ??= []).push(m);
        }
        ours[key] = oursAt[precisions[0]!]![key]!;
        if (reference) {
          log(`${runs > 1 ? `run ${run}/${runs}: ` : ''}PyTorch ${preset}, batch ${batch}...`);
          (theirs[key] ??= []).push(torchReference(preset, batch, steps));
        }
      }
    }
    const medianOf = (xs: (number | undefined)[]) => {
      const ok = xs.filter((x): x is number => x !== undefined && Number.isFinite(x));
      return ok.length ? median(ok) : undefined;
    };
    const train: (Measured & { runsFacesPerSecond: number[] })[] = precisions.flatMap((precision) => cases.map(({ key: p }) => {
      const list = oursAt[precision]![p]!;
      const good = list.filter((m) => !m.error);
      if (!good.length) return { ...list[0]!, runsFacesPerSecond: [] };
      const fps = good.map((m) => m.facesPerSecond);
      const mid = good.find((m) => m.facesPerSecond === median(fps)) ?? good[0]!;
      return {
        ...mid,
        facesPerSecond: median(fps),
        prepMsPerBatch: medianOf(good.map((m) => m.prepMsPerBatch)) ?? mid.prepMsPerBatch,
        effectiveGflops: medianOf(good.map((m) => m.effectiveGflops)) ?? mid.effectiveGflops,
        peakRssMB: Math.max(...good.map((m) => m.peakRssMB ?? 0)),
        profile: list[0]!.profile,
        runsFacesPerSecond: fps.map((x) => Number(x.toFixed(2))),
      };
    }));
    // bf16 against fp32, run by run (they alternate, as ours and PyTorch do), the median.
    const bf16OverFp32: Record<string, number> = {};
    if (oursAt.fp32 && oursAt.bf16)
      for (const { key: p } of cases) {
        const rs = oursAt.fp32[p]!.flatMap((f, i) => {
          const b = oursAt.bf16![p]![i];
          return f.facesPerSecond && b?.facesPerSecond ? [b.facesPerSecond / f.facesPerSecond] : [];
        });
        if (rs.length) bf16OverFp32[p] = Number(median(rs).toFixed(3));
      }
    // bf16 against PyTorch's fp32, run by run: what a learner gains over the usual CPU framework.
    const bf16OverTorch: Record<string, number> = {};
    if (oursAt.bf16)
      for (const { key: p } of cases) {
        const rs = (theirs[p] ?? []).flatMap((r, i) => {
          const b = oursAt.bf16![p]?.[i];
          return b?.facesPerSecond && r.facesPerSecond ? [b.facesPerSecond / r.facesPerSecond] : [];
        });
        if (rs.length) bf16OverTorch[p] = Number(median(rs).toFixed(3));
      }
    const refs: (Reference & { runsFacesPerSecond?: number[] })[] = cases.flatMap(({ key: p }) => {
      const list = theirs[p];
      if (!list) return [];
      const fps = list.map((r) => r.facesPerSecond).filter((x): x is number => x !== undefined);
      return [fps.length ? { ...list.find((r) => r.facesPerSecond !== undefined)!, facesPerSecond: median(fps), runsFacesPerSecond: fps.map((x) => Number(x.toFixed(2))) } : list[0]!];
    });
    const extract = values['no-extract'] ? null : (log('extraction on the six demo photos, five times over...'), await extractionSpeed());
    const runRatios: Record<string, number[]> = {};
    const ratio = Object.fromEntries(
      Object.keys(theirs).map((p) => {
        const rs = (theirs[p] ?? []).flatMap((r, i) => {
          const o = ours[p]?.[i];
          return o?.facesPerSecond && r.facesPerSecond ? [o.facesPerSecond / r.facesPerSecond] : [];
        });
        runRatios[p] = rs.map((x) => Number(x.toFixed(3)));
        return [p, rs.length ? Number(median(rs).toFixed(3)) : null];
      }),
    );
    const peakRssMB = Math.max(Math.round(process.resourceUsage().maxRSS / 1024), ...train.map((t) => t.peakRssMB ?? 0));
    const result = { backend: choice.backend, matmulGflops: Number(peak.toFixed(1)), runs, train, reference: refs, ratio, runRatios, bf16OverFp32, bf16OverTorch, extract, peakRssMB };
    const fmt = (x: number | undefined, d = 1) => (x === undefined ? '-' : x.toFixed(d));
    const text = [
      `backend ${choice.backend}: matrix multiply ${fmt(peak)} GFLOP/s`,
      ...train.map((t) =>
        t.error
          ? `${t.preset}: ${t.error}`
          : `${t.preset} batch ${t.batch}${t.precision && t.precision !== 'fp32' ? ` ${t.precision}` : ''}: ${fmt(t.facesPerSecond)} faces/s${runs > 1 ? ` (median of ${t.runsFacesPerSecond.join(', ')})` : ''} (${fmt(t.effectiveGflops)} GFLOP/s, ${fmt(t.prepMsPerBatch)} ms data prep per batch, peak ${t.peakRssMB} MB)`,
      ),
      ...refs.map((r) =>
        r.error
          ? `PyTorch ${r.preset}: ${r.error}`
          : `PyTorch ${r.preset} batch ${r.batch}: ${fmt(r.facesPerSecond)} faces/s (${r.threads} threads); ours/PyTorch ${ratio[keyOf(r)] ?? '-'}` +
            (runs > 1 ? ` (median of ${runs} runs side by side: ${(runRatios[keyOf(r)] ?? []).join(', ')})` : ''),
      ),
      ...Object.entries(bf16OverFp32).map(([p, r]) => `${p}: bf16/fp32 ${r}${bf16OverTorch[p] !== undefined ? `, bf16/PyTorch's fp32 ${bf16OverTorch[p]}` : ''}`),
      ...train.flatMap((t) => (t.convImplementation ? [`${t.preset} ${t.precision}: largest convolution runs ${t.convImplementation}`] : [])),
      ...train.flatMap((t) => (t.profile ? [formatProfile(t.profile)] : [])),
      extract
        ? `extraction: ${fmt(extract.imagesPerSecond, 2)} images/s (${extract.images} photos, ${extract.faces} faces; face-api on ${extract.faceBackend})` +
          (extract.wasm ? `; on wasm ${fmt(extract.wasm.imagesPerSecond, 2)} images/s, native/wasm ${extract.nativeOverWasm}` : '')
        : 'extraction: not measured',
      `peak resident memory ${peakRssMB} MB`,
    ].join('\n');
    return { result, text };
  },
});

/** `bench --quality`: train recipes for the same budget and score their swaps (lib/benchmark/quality.ts). */
async function qualityBench(values: BenchValues) {
  const { minutes, seed } = values;
  const given = values.recipe;
  const recipes: RecipeName[] = given.includes('all') ? recipeNames() : given.length ? [...new Set(given.map(recipeOption))] : [DEFAULT_RECIPE];
  const { a, b } = values;
  if ((a === undefined) !== (b === undefined)) throw new UsageError('--a and --b go together (two folders of aligned faces)');
  for (const dir of [a, b]) if (dir !== undefined && !(fs.existsSync(dir) && fs.statSync(dir).isDirectory())) throw new UsageError(`${dir} is not a folder`);
  const cacheDir = path.resolve(values.cache ?? path.join(PROJECT_ROOT, 'data', 'cache', 'quality'));
  const outDir = path.resolve(values.out ?? path.join(PROJECT_ROOT, 'output', 'bench-quality'));
  const precision = values.precision === undefined ? undefined : (parseValue('precision', PRECISION_OPTION, values.precision) as Precision);
  // --batch here is the recipe's batch size (one integer), not the speed benchmark's list.
  const overrides = { ...recipeOverrides({ ...values, batch: values.batch === undefined ? undefined : parseValue('batch', RECIPE_OPTIONS.batch!, values.batch) }), precision };
  const choice = await initBackend({ calibration: { workload: trainingWorkload() } });
  const unavailable = precision === 'bf16' ? bf16Unavailable() : null;
  if (unavailable) throw new UsageError(unavailable);
  const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
  log(describeChoice(choice));
  // The built-in people: photos per person and truth pairs (rendered and extracted once per size).
  const { count, pairs } = values;
  const data = a !== undefined && b !== undefined ? folderData(a, b) : await builtinData(cacheDir, { count, pairs, log });
  const stop = new AbortController();
  const onSignal = () => {
    log('stopping after this step; finished recipes stay cached');
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const report = await runQualityBenchmark({
      recipes, minutes, seed, overrides, data, cacheDir, outDir,
      photos: !values['no-photos'], signal: stop.signal, log,
    });
    const chart = await writeQualityChart(path.join(outDir, 'quality-chart.html'), report.quality);
    const text = [
      ...report.quality.map((e) => `${e.recipe} @ ${e.minutes} min: ${describeEntry(e)}`),
      `ceiling: real B verified as B ${report.ceiling.realVerification.self.a2b}, real A as B ${report.ceiling.realVerification.other.a2b}` +
        (report.ceiling.truth ? `; the truth faces: verification ${report.ceiling.truth.verification.a2b}/${report.ceiling.truth.verification.b2a}, sharpness ${report.ceiling.truth.sharpness.a2b}/${report.ceiling.truth.sharpness.b2a}` : ''),
      `grid ${report.grid ?? '-'}`,
      `chart ${chart}`,
      report.interrupted ? 'interrupted: run the same command again to continue' : '',
    ].filter(Boolean).join('\n');
    return { result: { backend: choice.backend, ...report, chart }, text, exitCode: report.interrupted ? 1 : 0 };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
