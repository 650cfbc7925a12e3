// Training throughput of one preset on the current backend: alternating A and B steps on augmented
// batches, timed after warm-up, the median reported. Synthetic faces (smooth random blobs) stand in
// for real ones: speed does not depend on what the pixels show.

import * as tf from '@tensorflow/tfjs';
import { presetConfig, type ModelConfig, type PresetName } from '../model/config';
import { runTraining } from '../train/run';
import { TrainingSession } from '../train/session';
import { Rng } from '../util/rng';
import { median } from '../util/stats';
import { trainStepFlops } from './flops';
import type { CalibrationWorkload } from '../engine/calibrate';

export interface TrainSpeed {
  preset: string;
  batch: number;
  /** Median over the timed steps; one step = a batch of A and a batch of B. */
  facesPerSecond: number;
  stepMs: number;
  /** Augmentation time per batch (part of stepMs). */
  prepMsPerBatch: number;
  gflopsPerStep: number;
  /** Useful arithmetic per second: the model's FLOPs over the measured time. */
  effectiveGflops: number;
  steps: number;
  /** Untimed steps before them (at least `warmup`, more until `warmupSeconds` had passed). */
  warmupSteps: number;
  /** How long they took: from the first step's start to the first timed step's. */
  warmupMs: number;
  error?: string;
}

export function syntheticFaces(n: number, size: number, rng: Rng): Uint8Array[] {
  return Array.from({ length: n }, () => {
    const face = new Uint8Array(size * size * 3);
    const [cx, cy, r] = [rng.uniform(0.3, 0.7) * size, rng.uniform(0.3, 0.7) * size, rng.uniform(0.2, 0.4) * size];
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++)
        for (let c = 0; c < 3; c++) face[(y * size + x) * 3 + c] = Math.round(255 * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (r * r)) * (0.5 + 0.2 * c));
    return face;
  });
}

/**
 * `warmup` steps are untimed, and more until `warmupSeconds` have passed: a lite step on the native
 * backend speeds up over its first ~2 s (V8 optimising the engine's JavaScript, and the first touch
 * of the backend's recycled arrays: 84k page faults in the first second, none by the fourth;
 * measured on the 2-core EPYC, steps 1-5 at 108-133 ms, steps 15-25 at 91-104 ms), while
 * PyTorch's steps are steady from the second one. bench gives both the same rule (lib/benchmark/torch_reference.py).
 */
export async function measureTrainSpeed(preset: PresetName, batch: number, steps = 5, warmup = 1, warmupSeconds = 0): Promise<TrainSpeed> {
  const config = presetConfig(preset);
  const session = await speedSession(config, batch);
  const times: number[] = [];
  const prep: number[] = [];
  const enough = new AbortController();
  const start = performance.now();
  let warm = 0, warmupMs = 0;
  try {
    await runTraining(session, {
      stream: null,
      signal: enough.signal,
      onStep: (e) => {
        const began = performance.now() - e.stepMs; // this step's start
        if (warm >= warmup && began - start >= warmupSeconds * 1000) {
          if (!times.length) warmupMs = began - start;
          times.push(e.stepMs);
          prep.push(e.prepMs / session.identities.length);
        } else warm++;
        if (times.length >= steps) enough.abort();
      },
    });
    const stepMs = median(times);
    const flops = trainStepFlops(session.ae, 'a', batch) * 2;
    return {
      preset,
      batch,
      facesPerSecond: (2 * batch) / (stepMs / 1000),
      stepMs,
      prepMsPerBatch: median(prep),
      gflopsPerStep: flops / 1e9,
      effectiveGflops: flops / 1e9 / (stepMs / 1000),
      steps,
      warmupSteps: warm,
      warmupMs,
    };
  } finally {
    session.dispose();
  }
}

/**
 * A session on 32 synthetic faces per person held in memory, with the 2018 code's settings
 * (plain L1, the classic augmentation and Adam): what the speed benchmark and the profile time.
 */
export function speedSession(config: ModelConfig, batch: number): Promise<TrainingSession> {
  const rng = new Rng(1);
  const faces = { a: syntheticFaces(32, config.inputSize, rng), b: syntheticFaces(32, config.inputSize, rng) };
  return TrainingSession.inMemory({ faces, config, settings: { batchSize: batch, seed: 1 } });
}

/** Matrix-multiply throughput of the backend (n x n x n, median of a few), in GFLOP/s. */
export async function matmulGflops(n = 1024, repeats = 5): Promise<number> {
  const a = tf.randomNormal([n, n]), b = tf.randomNormal([n, n]);
  const times: number[] = [];
  try {
    for (let i = 0; i <= repeats; i++) {
      const t0 = performance.now();
      const c = tf.matMul(a, b);
      await c.data();
      c.dispose();
      if (i > 0) times.push(performance.now() - t0);
    }
  } finally {
    tf.dispose([a, b]);
  }
  return (2 * n ** 3) / 1e9 / (median(times) / 1000);
}

/**
 * The backend calibration's workload for whoever chooses a backend to train on: a few steps of a
 * preset at a batch, in training faces per second (lib/engine/calibrate.ts).
 */
export function trainingWorkload(preset: PresetName = 'lite', batch = 16, steps = 3): CalibrationWorkload {
  return { name: `${preset}, batch ${batch}`, run: async () => (await measureTrainSpeed(preset, batch, steps, 1)).facesPerSecond };
}
