// Is the GPU faster than the CPU at training? Not something to guess from the adapter's name: an
// integrated GPU can lose to a many-core CPU, and a big GPU wins only at some batch sizes. So the
// backend choice measures it once per machine: a workload timed on each candidate backend, cached
// in data/cache/ under a key naming the workload and every candidate (adapter, CPU kernels and
// threads, TensorFlow.js version). A new driver, GPU or thread count makes a new key, and so a new
// measurement.
//
// The engine does not know what the project trains: whoever chooses the backend for training
// passes that workload (lib/benchmark/train-speed.ts: trainingWorkload, a few steps of a preset).
// Without one, a small convolutional autoencoder stands in (defaultWorkload below).

import * as path from 'path';
import { z } from 'zod';
import * as tf from '@tensorflow/tfjs';
import { readJsonFileIfExists } from '../util/jsonfile';
import { writeFileAtomicSync } from '../util/fsutil';
import { PROJECT_ROOT } from '../util/project';

/** Bump when the record changes: old measurements then no longer count. */
const CALIBRATION_VERSION = 2;

/** Something to time on each candidate backend: the faster one at it is chosen. */
export interface CalibrationWorkload {
  /** What it is, for the cache key and the report: "lite, batch 16". */
  name: string;
  /** Items (training faces) per second on the current engine; throws when it cannot run. */
  run(): Promise<number>;
}

export interface CalibrationCandidate {
  /** The project's name for the backend ('webgpu', 'native'). */
  name: string;
  /** The TensorFlow.js engine to time on. */
  engine: string;
  /** What identifies this backend on this machine (adapter, kernels, threads): part of the key. */
  detail: string;
}

const CalibrationSchema = z.object({
  key: z.string(),
  /** The workload's name ("lite, batch 16"). */
  workload: z.string(),
  /** Training faces per second, per candidate name; 0 where the run failed. */
  facesPerSecond: z.record(z.string(), z.number()),
  /** Why a candidate's run failed, one line each. */
  errors: z.record(z.string(), z.string()),
  /** The fastest candidate. */
  fastest: z.string(),
  measuredAt: z.string(),
  /** Wall time of the whole measurement. */
  seconds: z.number(),
});
export type Calibration = z.infer<typeof CalibrationSchema>;

export interface CalibrationResult extends Calibration {
  /** Read from the cache file instead of measured now. */
  cached: boolean;
  file: string;
}

export interface CalibrateOptions {
  /** What to time. Default: defaultWorkload() (a small convolutional autoencoder, batch 16). */
  workload?: CalibrationWorkload;
  /** Default: DEEPFAKE_CALIBRATION_FILE, else data/cache/backend-calibration.json. */
  file?: string;
  /** Measure even when the cache has this key (the cached entry is replaced). */
  refresh?: boolean;
}

const CacheSchema = z.object({ version: z.number(), entries: z.record(z.string(), CalibrationSchema) });

export function calibrationFile(): string {
  return process.env.DEEPFAKE_CALIBRATION_FILE || path.join(PROJECT_ROOT, 'data', 'cache', 'backend-calibration.json');
}

export function calibrationKey(candidates: CalibrationCandidate[], workload: string): string {
  return [`v${CALIBRATION_VERSION}`, `tfjs ${tf.version_core}`, workload, ...candidates.map((c) => `${c.name}: ${c.detail}`)].join(' | ');
}

function readCache(file: string): Record<string, Calibration> {
  try {
    const cache = readJsonFileIfExists(file, CacheSchema);
    return cache && cache.version === CALIBRATION_VERSION ? cache.entries : {};
  } catch {
    return {}; // a damaged cache costs one measurement, not a failed start
  }
}

/**
 * The candidate with the most faces per second; on a tie the later one (the CPU backend comes
 * last, so when every run failed the choice is the CPU's).
 */
export function fastestOf(facesPerSecond: Record<string, number>, order: string[]): string {
  return order.reduce((best, name) => ((facesPerSecond[name] ?? 0) >= (facesPerSecond[best] ?? 0) ? name : best), order[0]!);
}

/**
 * A stand-in for training when the caller names no workload: a few Adam steps of a small
 * convolutional autoencoder on 64 px noise (strided 5x5 convolutions down, transposed ones up),
 * the shapes the project's models train at. Items per second after one warm-up step.
 */
export function defaultWorkload(batch = 16, steps = 3): CalibrationWorkload {
  return {
    name: `conv autoencoder, batch ${batch}`,
    async run() {
      const model = tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: [64, 64, 3], filters: 32, kernelSize: 5, strides: 2, padding: 'same', activation: 'relu' }),
          tf.layers.conv2d({ filters: 64, kernelSize: 5, strides: 2, padding: 'same', activation: 'relu' }),
          tf.layers.conv2dTranspose({ filters: 32, kernelSize: 5, strides: 2, padding: 'same', activation: 'relu' }),
          tf.layers.conv2dTranspose({ filters: 3, kernelSize: 5, strides: 2, padding: 'same', activation: 'sigmoid' }),
        ],
      });
      const optimizer = tf.train.adam(1e-4);
      const x = tf.randomUniform([batch, 64, 64, 3], 0, 1, 'float32', 1);
      const step = () => tf.tidy(() => optimizer.minimize(() => tf.losses.absoluteDifference(x, model.apply(x) as tf.Tensor4D), true)!.dataSync());
      try {
        step(); // compiles the GPU's programs
        const t0 = performance.now();
        for (let i = 0; i < steps; i++) step();
        return (batch * steps * 1000) / (performance.now() - t0);
      } finally {
        optimizer.dispose();
        model.dispose();
        x.dispose();
      }
    },
  };
}

/**
 * Time the workload on every candidate, or read the time from the cache. Leaves the engine on
 * the backend that was current before.
 */
export async function calibrate(candidates: CalibrationCandidate[], options: CalibrateOptions = {}): Promise<CalibrationResult> {
  const workload = options.workload ?? defaultWorkload();
  const file = options.file ?? calibrationFile();
  const key = calibrationKey(candidates, workload.name);
  const entries = readCache(file);
  const hit = entries[key];
  if (hit && !options.refresh) return { ...hit, cached: true, file };

  const started = performance.now();
  const previous = tf.getBackend();
  const facesPerSecond: Record<string, number> = {};
  const errors: Record<string, string> = {};
  try {
    for (const c of candidates) {
      try {
        if (!(await tf.setBackend(c.engine))) throw new Error(`the ${c.engine} engine did not start`);
        facesPerSecond[c.name] = await workload.run();
      } catch (e) {
        facesPerSecond[c.name] = 0;
        errors[c.name] = (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 200);
      }
    }
  } finally {
    if (previous) await tf.setBackend(previous);
  }
  const calibration: Calibration = {
    key, workload: workload.name, facesPerSecond, errors,
    fastest: fastestOf(facesPerSecond, candidates.map((c) => c.name)),
    measuredAt: new Date().toISOString(),
    seconds: (performance.now() - started) / 1000,
  };
  try {
    writeFileAtomicSync(file, JSON.stringify({ version: CALIBRATION_VERSION, entries: { ...readCache(file), [key]: calibration } }, null, 1) + '\n');
  } catch {
    // A read-only project still works: it measures again next time.
  }
  return { ...calibration, cached: false, file };
}

/** "webgpu 912 vs native 151 faces/s (lite, batch 16; measured 2026-12-01)". */
export function describeCalibration(c: Calibration, order: string[]): string {
  const parts = order.map((n) => `${n} ${c.errors[n] ? `failed (${c.errors[n]})` : Math.round(c.facesPerSecond[n] ?? 0)}`);
  return `${parts.join(' vs ')} faces/s (${c.workload}; measured ${c.measuredAt.slice(0, 10)})`;
}
