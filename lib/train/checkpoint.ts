// Checkpoints: <model>/checkpoints/step-NNNNNNNN/ holds the model (config.json, encoder/,
// decoder_*/), each identity's Adam state and state.json (step, random streams, settings).
//
// Crash safety: a checkpoint is written into a temporary folder and renamed into place only when
// complete (a rename is atomic), and older ones are deleted only after that. Whatever moment
// a SIGKILL lands, the newest step-* folder is a whole, loadable checkpoint.
//
// Damage after the fact (a file cut short by a copy, a full disk elsewhere, bit rot): state.json
// records each file's size and sha256, checked on load, and the checkpoint before the newest is
// kept too, so a damaged newest one costs the steps between them, not the model.

import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { writeFileAtomic } from '../util/fsutil';
import { CorruptFile, readJsonFileAsync, type ShapeOf } from '../util/jsonfile';
import { disposeAutoencoder, type Autoencoder } from '../model/builder';
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

/** A file of the checkpoint as it was written: what loading checks it against. */
interface FileRecord {
  bytes: number;
  sha256: string;
}

interface StateFile extends TrainState {
  /** Weight specs of optimizer_<identity>.bin. */
  optimizers: Record<string, tf.io.WeightsManifestEntry[]>;
  savedAt: string;
  /** Every other file of the folder by relative path ('/'-separated); absent in older checkpoints (loaded unverified). */
  files: Record<string, FileRecord>;
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
  files: z.record(z.string(), z.object({ bytes: z.number(), sha256: z.string() })).optional(),
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

/** How many checkpoints a model folder keeps: the newest and the one before (big presets: ~60 MB each). */
const KEEP = 2;

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Size and checksum of every file under `dir` but state.json, keyed by '/'-separated relative path. */
async function recordFiles(dir: string): Promise<Record<string, FileRecord>> {
  const out: Record<string, FileRecord> = {};
  const names = (await fs.promises.readdir(dir, { recursive: true })).map(String).sort();
  for (const rel of names) {
    const file = path.join(dir, rel);
    if (rel === STATE_JSON || !(await fs.promises.stat(file)).isFile()) continue;
    const bytes = await fs.promises.readFile(file);
    out[rel.split(path.sep).join('/')] = { bytes: bytes.length, sha256: sha256(bytes) };
  }
  return out;
}

/** Throws CorruptFile naming the first file that is missing or differs from its record. */
async function verifyFiles(dir: string, files: Record<string, FileRecord>): Promise<void> {
  for (const [rel, want] of Object.entries(files)) {
    const file = path.join(dir, ...rel.split('/'));
    let bytes: Buffer;
    try {
      bytes = await fs.promises.readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new CorruptFile(file, 'missing from its checkpoint');
      throw e;
    }
    if (bytes.length !== want.bytes) throw new CorruptFile(file, `holds ${bytes.length} bytes, ${want.bytes} were saved`);
    if (sha256(bytes) !== want.sha256) throw new CorruptFile(file, 'its sha256 differs from the one recorded when it was saved');
  }
}

export async function saveCheckpoint(modelDir: string, ae: Autoencoder, optimizers: Record<string, tf.Optimizer>, state: TrainState): Promise<string> {
  const root = path.join(modelDir, CHECKPOINTS);
  const final = path.join(root, stepDirName(state.step));
  // Same step, same weights: the checkpoint that is there already says it all, unless it is the
  // damaged one a resumed run fell back from (then it is written again).
  if (fs.existsSync(path.join(final, STATE_JSON))) {
    if ((await checkpointDamage(final)) === null) return final;
    await fs.promises.rm(final, { recursive: true, force: true });
  }
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
    // Read back from the disk: the record is of the bytes that a later load will find.
    const file: StateFile = { ...state, optimizers: specs, savedAt: new Date().toISOString(), files: await recordFiles(tmp) };
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
  // Keep this one and the newest whole one before it (verified: a damaged one would be no fallback).
  // Newer ones can only be damaged checkpoints that this run resumed past (loadNewestCheckpoint):
  // they would be reported again on every load.
  const keep = new Set([final]);
  for (const d of listCheckpoints(modelDir)) {
    if (keep.size >= KEEP) break;
    if (path.basename(d) < path.basename(final) && (await checkpointDamage(d)) === null) keep.add(d);
  }
  for (const old of listCheckpoints(modelDir)) if (!keep.has(old)) await fs.promises.rm(old, { recursive: true, force: true });
  return final;
}

/** What a checkpoint is (step, settings, model configuration) without loading its weights. */
export async function readCheckpointInfo(dir: string): Promise<{ dir: string; step: number; settings: TrainSettings; config: ModelConfig; savedAt: string | null }> {
  const file = await readJsonFileAsync(path.join(dir, STATE_JSON), StateFileSchema);
  return { dir, step: file.step, settings: normaliseSettings(file.settings), config: await readModelConfig(dir), savedAt: file.savedAt ?? null };
}

/** Why a checkpoint cannot be loaded (the first damaged file), or null when its files are whole. */
export async function checkpointDamage(dir: string): Promise<CorruptFile | null> {
  try {
    const file = await readJsonFileAsync(path.join(dir, STATE_JSON), StateFileSchema);
    if (file.files) await verifyFiles(dir, file.files);
    return null;
  } catch (e) {
    if (e instanceof CorruptFile) return e;
    throw e;
  }
}

/** A file the checkpoint needs is damaged or missing: CorruptFile naming it, or null for any other error. */
function asDamage(e: unknown): CorruptFile | null {
  if (e instanceof CorruptFile) return e;
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ENOENT' && typeof err.path === 'string') return new CorruptFile(err.path, 'missing from its checkpoint');
  return null;
}

/**
 * The newest checkpoint of a model folder that loads, null when it has none. A damaged one is said
 * in one line naming its file, and the one before it is loaded instead; when none is usable, this
 * throws CorruptFile naming the damaged file and what to do.
 */
export async function loadNewestCheckpoint(modelDir: string, log: (line: string) => void = () => undefined): Promise<Checkpoint | null> {
  const dirs = listCheckpoints(modelDir);
  for (const [i, dir] of dirs.entries()) {
    try {
      return await loadCheckpoint(dir);
    } catch (e) {
      const damage = asDamage(e);
      if (!damage) throw e;
      const previous = dirs[i + 1];
      if (!previous)
        throw new CorruptFile(damage.file, `${damage.why}; no earlier checkpoint to fall back on (delete ${path.join(modelDir, CHECKPOINTS)} to train from the start)`);
      log(`${damage.message}; using the previous checkpoint ${previous}`);
    }
  }
  return null;
}

/** One checkpoint; a damaged file throws CorruptFile naming it (loadNewestCheckpoint falls back on that). */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const file = await readJsonFileAsync(path.join(dir, STATE_JSON), StateFileSchema);
  // Before any tensor is made. Older checkpoints recorded nothing: loaded unverified (sizes are still checked).
  if (file.files) await verifyFiles(dir, file.files);
  // Checkpoints from before a setting existed continue with the behaviour they were trained with.
  const settings = normaliseSettings(file.settings);
  const ae = await loadAutoencoder(dir);
  const optimizers: Record<string, FusedAdamOptimizer> = {};
  for (const id of ae.config.identities) {
    const opt = makeOptimizer(settings.adam);
    const specs = file.optimizers[id];
    if (specs) {
      const bin = path.join(dir, `optimizer_${id}.bin`);
      const bytes = await fs.promises.readFile(bin);
      // tfjs would say only "the tensor should have 600 values but has 24", naming no file.
      const expected = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * (s.dtype === 'bool' ? 1 : 4), 0);
      if (bytes.length !== expected) {
        disposeAutoencoder(ae);
        for (const o of Object.values(optimizers)) o.dispose();
        opt.dispose();
        throw new CorruptFile(bin, `holds ${bytes.length} bytes, state.json expects ${expected}`);
      }
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
