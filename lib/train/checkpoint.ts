// Checkpoints: <model>/checkpoints/step-NNNNNNNN/ holds the model (config.json, encoder/,
// decoder_*/), each identity's Adam state and state.json (step, random streams, settings).
//
// Crash safety: a checkpoint is written into a temporary folder and renamed into place only when
// complete (a rename is atomic), and the previous one is deleted only after that. Whatever moment
// a SIGKILL lands, the newest step-* folder is a whole, loadable checkpoint.

import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { writeFileAtomic } from '../util/fsutil';
import { readJsonFileAsync, type ShapeOf } from '../util/jsonfile';
import type { Autoencoder } from '../model/builder';
import { WeightsEntrySchema } from '../model/fs-io';
import { loadAutoencoder, readModelConfig, saveAutoencoder } from '../model/store';
import type { ModelConfig } from '../model/config';
import { SamplerStateSchema, type SamplerState } from './batches';
import type { FusedAdamOptimizer } from '../engine/native/adam';
import { RngStateSchema, type RngState } from '../util/rng';
import { LrCycleSchema, type LrCycle } from './schedule';
import { normaliseSettings, SavedSettingsSchema, type TrainSettings } from './settings';
import { makeOptimizer } from './step';

export const CHECKPOINTS = 'checkpoints';
const STATE_JSON = 'state.json';
const TEMP_PREFIX = '.tmp-';

export interface TrainState {
  step: number;
  rng: RngState;
  samplers: Record<string, SamplerState>;
  settings: TrainSettings;
  /** The learning-rate cycle in progress (lib/train/schedule.ts); null before any. */
  cycle: LrCycle | null;
}

interface StateFile extends TrainState {
  /** Weight specs of optimizer_<identity>.bin. */
  optimizers: Record<string, tf.io.WeightsManifestEntry[]>;
  savedAt: string;
}

/** state.json as read back: checkpoints from before a setting (or the cycle) existed lack it. */
const StateFileSchema = z.object({
  step: z.number(),
  rng: RngStateSchema,
  samplers: z.record(z.string(), SamplerStateSchema),
  settings: SavedSettingsSchema,
  cycle: LrCycleSchema.nullable().optional(),
  optimizers: z.record(z.string(), z.array(WeightsEntrySchema)),
  savedAt: z.string().optional(),
} satisfies ShapeOf<StateFile>);

export interface Checkpoint {
  dir: string;
  ae: Autoencoder;
  optimizers: Record<string, FusedAdamOptimizer>;
  state: TrainState;
}

function stepDirName(step: number): string {
  return `step-${String(step).padStart(8, '0')}`;
}

/** Complete checkpoint folders, newest first. */
export function listCheckpoints(modelDir: string): string[] {
  const root = path.join(modelDir, CHECKPOINTS);
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .filter((n) => /^step-\d+$/.test(n) && fs.existsSync(path.join(root, n, STATE_JSON)))
    .sort()
    .reverse()
    .map((n) => path.join(root, n));
}

export function latestCheckpoint(modelDir: string): string | null {
  return listCheckpoints(modelDir)[0] ?? null;
}

/** Delete temporary folders that an interrupted writer left behind. */
export function removeCheckpointTemps(modelDir: string): number {
  const root = path.join(modelDir, CHECKPOINTS);
  if (!fs.existsSync(root)) return 0;
  const temps = fs.readdirSync(root).filter((n) => n.startsWith(TEMP_PREFIX));
  for (const n of temps) fs.rmSync(path.join(root, n), { recursive: true, force: true });
  return temps.length;
}

export async function saveCheckpoint(modelDir: string, ae: Autoencoder, optimizers: Record<string, tf.Optimizer>, state: TrainState): Promise<string> {
  const root = path.join(modelDir, CHECKPOINTS);
  const final = path.join(root, stepDirName(state.step));
  // Same step, same weights: the checkpoint that is there already says it all.
  if (fs.existsSync(path.join(final, STATE_JSON))) return final;
  const tmp = path.join(root, `${TEMP_PREFIX}${stepDirName(state.step)}-${process.pid}`);
  await fs.promises.rm(tmp, { recursive: true, force: true });
  try {
    await saveAutoencoder(ae, tmp);
    const specs: StateFile['optimizers'] = {};
    for (const [id, opt] of Object.entries(optimizers)) {
      const weights = await opt.getWeights();
      const { data, specs: s } = await tf.io.encodeWeights(weights);
      // getWeights returns the optimizer's own variables plus a fresh iteration-count scalar.
      tf.dispose(weights.map((w) => w.tensor).filter((t) => !(t instanceof tf.Variable)));
      await writeFileAtomic(path.join(tmp, `optimizer_${id}.bin`), new Uint8Array(data));
      specs[id] = s;
    }
    const file: StateFile = { ...state, optimizers: specs, savedAt: new Date().toISOString() };
    // state.json last: a folder without it was never finished.
    await writeFileAtomic(path.join(tmp, STATE_JSON), JSON.stringify(file));
    await fs.promises.rename(tmp, final);
  } catch (e) {
    // A failed write (a full disk): no half checkpoint stays; the previous one is untouched.
    await fs.promises.rm(tmp, { recursive: true, force: true });
    // Name the checkpoint, not a file in the temporary folder that is gone now.
    const err = e as NodeJS.ErrnoException;
    if (err.code && typeof err.path === 'string' && err.path.startsWith(tmp)) err.path = final;
    throw e;
  }
  for (const old of listCheckpoints(modelDir)) if (old !== final) await fs.promises.rm(old, { recursive: true, force: true });
  return final;
}

/** What a checkpoint is (step, settings, model configuration) without loading its weights. */
export async function readCheckpointInfo(dir: string): Promise<{ dir: string; step: number; settings: TrainSettings; config: ModelConfig; savedAt: string | null }> {
  const file = await readJsonFileAsync(path.join(dir, STATE_JSON), StateFileSchema);
  return { dir, step: file.step, settings: normaliseSettings(file.settings), config: await readModelConfig(dir), savedAt: file.savedAt ?? null };
}

export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  // A damaged state.json throws CorruptFile naming it (only the newest checkpoint is kept).
  const file = await readJsonFileAsync(path.join(dir, STATE_JSON), StateFileSchema);
  // Checkpoints from before a setting existed continue with the behaviour they were trained with.
  const settings = normaliseSettings(file.settings);
  const ae = await loadAutoencoder(dir);
  const optimizers: Record<string, FusedAdamOptimizer> = {};
  for (const id of ae.config.identities) {
    const opt = makeOptimizer(settings.adam);
    const specs = file.optimizers[id];
    if (specs) {
      const bytes = await fs.promises.readFile(path.join(dir, `optimizer_${id}.bin`));
      const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      const named = tf.io.decodeWeights(buf, specs);
      await opt.setWeights(Object.entries(named).map(([name, tensor]) => ({ name, tensor })));
      tf.dispose(Object.values(named));
    }
    optimizers[id] = opt;
  }
  const state: TrainState = { step: file.step, rng: file.rng, samplers: file.samplers, settings, cycle: file.cycle ?? null };
  return { dir, ae, optimizers, state };
}
