// A training session: the model, one Adam per identity, the faces, the random stream and the step
// count, opened fresh or from the newest checkpoint in a model folder, or held in memory (faces
// given as pixels, nothing written: the speed benchmark and the calibration). runTraining (run.ts)
// is the loop that steps it, for every caller.

import { setPrecision, type Precision } from '../engine/native/precision';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../util/fsutil';
import { buildAutoencoder, disposeAutoencoder, type Autoencoder } from '../model/builder';
import { presetConfig, type ModelConfig } from '../model/config';
import { CONFIG_JSON } from '../model/store';
import type { PersonFaces } from '../model/decoders/decoder-kind';
import { decoderKindOf, validateModelConfig } from '../model/decoders/registry';
import { ALIGNMENTS_FILE, readAlignments } from '../faces/alignments';
import type { Point } from '../faces/types';
import type { FusedAdamOptimizer } from '../engine/native/adam';
import { disposeBatch, FaceSampler, type FaceMaps, type SamplerState } from './batches';
import { loadNewestCheckpoint, removeCheckpointTemps, saveCheckpoint } from './checkpoint';
import { faceMaps } from './face-maps';
import { faceSetLandmarks, loadIdentityFaces, modelLandmarks, type IdentityFaces } from '../data/identity-faces';
import { decodeFace, facesToTensor, type FaceSet } from '../data/face-set';
import { DivergenceWatch, type Divergence } from './divergence';
import { appendHistory, truncateHistory, type HistoryEntry } from './history';
import { lossNeedsMaps } from './loss';
import { dropPreviewsAfter, writePreview } from './preview';
import { Rng } from '../util/rng';
import { cycleProgress, learningRateAt, nextCycle, type LrCycle } from './schedule';
import { defaultSettings, type SettingsInput, type TrainSettings } from './settings';
import { makeOptimizer, trainStep } from './step';

export interface OpenOptions {
  modelDir: string;
  /** Face folder per identity, e.g. { a: 'data/alice/faces', b: 'data/bob/faces' }. */
  data: Record<string, string>;
  /** The model to build when the folder has no checkpoint yet. Default: the `lite` preset. */
  config?: ModelConfig;
  /** Settings for a new run. On resume the checkpoint's settings stay, except batchSize. */
  settings?: SettingsInput;
  /** fp32 or bf16 convolutions. Default: settings.precision for a new run, the checkpoint's on resume. */
  precision?: Precision;
  /** Where notes (resumed from, skipped files) go. Default: nowhere. */
  log?: (line: string) => void;
}

/**
 * Masks and loss weights for the faces of a set, as the settings ask: drawn from each crop's
 * landmarks (alignments.json, or found once and cached), or the fixed ellipse; with the decoder
 * kind's own maps when `extra.kindMaps` draws them.
 */
export async function identityMaps(set: FaceSet, settings: Pick<TrainSettings, 'cropFraction' | 'loss' | 'masks'>, log: (line: string) => void = () => undefined, extra: { landmarks?: Map<string, Point[]> | null; kindMaps?: (masks: Float32Array[]) => Promise<Array<Record<string, Float32Array> | null>> } = {}): Promise<FaceMaps[]> {
  const landmarks = extra.landmarks !== undefined ? extra.landmarks : settings.masks === 'landmarks' ? await faceSetLandmarks(set, log) : null;
  const { maps, ellipses } = await faceMaps(set, settings.cropFraction, landmarks, settings.loss, extra.kindMaps);
  if (ellipses > 0 && settings.masks === 'landmarks') log(`${set.dir}: ${ellipses} of ${set.files.length} faces without landmarks train with an ellipse mask`);
  return maps;
}

export class TrainingSession {
  /** Set by the first step whose loss has blown up (divergence.ts); training further is wasted. */
  diverged: Divergence | null = null;
  private readonly watch = new DivergenceWatch();

  private constructor(
    readonly modelDir: string,
    readonly ae: Autoencoder,
    readonly optimizers: Record<string, FusedAdamOptimizer>,
    readonly settings: TrainSettings,
    readonly faces: Record<string, IdentityFaces>,
    private readonly samplers: Record<string, FaceSampler>,
    private readonly rng: Rng,
    public step: number,
    /** The checkpoint this session resumed from, or null for a new model. */
    readonly resumedFrom: string | null,
    public history: HistoryEntry[],
    /** The learning-rate cycle in progress (schedule.ts); null: the base rate, constant. */
    public cycle: LrCycle | null,
    /** Writes history, checkpoints and previews to modelDir; false for a session held in memory. */
    readonly persistent = true,
  ) {
    // A resumed model that had already blown up is not worth another step either.
    for (const e of history) this.diverged ??= this.watch.observe(e);
  }

  static async open(options: OpenOptions): Promise<TrainingSession> {
    const log = options.log ?? (() => undefined);
    const modelDir = path.resolve(options.modelDir);
    const data = Object.fromEntries(Object.entries(options.data).map(([id, d]) => [id, path.resolve(d)]));
    removeCheckpointTemps(modelDir);
    // The newest checkpoint that loads: a damaged one is said in one line and the one before used.
    const ck = await loadNewestCheckpoint(modelDir, log);
    const ckptDir = ck?.dir ?? null;
    let ae: Autoencoder, optimizers: Record<string, FusedAdamOptimizer>, settings: TrainSettings, step: number, rng: Rng;
    let samplerStates: Record<string, SamplerState> = {};
    let cycle: LrCycle | null = null;
    if (ck) {
      ({ ae, optimizers } = ck);
      // The batch size, folders and precision may change; the rest is the checkpoint's.
      settings = {
        ...ck.state.settings,
        data,
        batchSize: options.settings?.batchSize ?? ck.state.settings.batchSize,
        precision: options.precision ?? ck.state.settings.precision,
      };
      step = ck.state.step;
      rng = new Rng(settings.seed, ck.state.rng);
      samplerStates = ck.state.samplers;
      cycle = ck.state.cycle;
      log(`resuming from ${ckptDir} at step ${step}; its model and settings continue (only the batch size, folders and precision may change)`);
    } else {
      const config = options.config ?? presetConfig('lite');
      validateModelConfig(config);
      settings = defaultSettings(data, { ...options.settings, ...(options.precision ? { precision: options.precision } : {}) });
      ae = buildAutoencoder(config, { seed: settings.seed });
      optimizers = Object.fromEntries(config.identities.map((id) => [id, makeOptimizer(settings.adam)]));
      step = 0;
      rng = new Rng(settings.seed);
      await writeFileAtomic(path.join(modelDir, CONFIG_JSON), JSON.stringify(config, null, 2) + '\n');
    }
    // Before any training step; throws PrecisionUnavailable (one line) where bf16 cannot run.
    setPrecision(settings.precision);
    if (settings.precision !== 'fp32') log(`convolutions in ${settings.precision} (fp32 accumulation, weights and Adam)`);
    const faces: Record<string, IdentityFaces> = {};
    const mapsOf: Record<string, FaceMaps[] | undefined> = {};
    const kind = decoderKindOf(ae.config);
    for (const id of ae.config.identities) {
      const dir = data[id];
      if (!dir) throw new Error(`no face folder for identity "${id}"`);
      if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`${dir} is not a folder`);
      // A damaged alignments.json stops the run whatever the recipe: swap reads the crop geometry
      // from it, so a model trained beside one could not be used (CorruptFile says how to rebuild it).
      readAlignments(path.join(dir, ALIGNMENTS_FILE));
      faces[id] = await loadIdentityFaces(dir, ae.config.inputSize, settings);
      const { train, heldOut } = faces[id];
      if (train.pixels.length === 0) throw new Error(`${dir}: no usable face images`);
      for (const s of train.skipped) log(`skipped ${id}/${s.file}: ${s.reason} (${s.detail})`);
      log(`${id}: ${train.pixels.length} faces to train on, ${heldOut.pixels.length} held out, from ${dir}`);
      // What the decoder kind needs of the faces: their landmarks; a new decoder, to be set up from them.
      const landmarks = kind.needsLandmarks ? await faceSetLandmarks(train, log) : undefined;
      const person: PersonFaces = {
        id,
        set: train,
        landmarks: modelLandmarks(train, settings.cropFraction, landmarks ?? null),
        larger: async (i, side) => {
          const r = await decodeFace(path.join(train.dir, train.files[i]!), side, settings.cropFraction);
          if (r.ok === false) throw new Error(`${train.files[i]}: ${r.reason} (${r.detail})`);
          return r.face;
        },
      };
      const decoder = ae.decoders[id]!;
      if (!ckptDir && kind.prepare) await kind.prepare(decoder, person, (line) => log(`${id}: ${line}`));
      const kindMaps = kind.faceMaps && ((masks: Float32Array[]) => kind.faceMaps!(decoder, person, masks));
      const needsMaps = ae.config.mask || lossNeedsMaps(settings.loss) || (settings.augment.mixBackground ?? 0) > 0 || kindMaps !== undefined;
      mapsOf[id] = needsMaps ? await identityMaps(train, settings, log, { landmarks, kindMaps }) : undefined;
    }
    const samplers = TrainingSession.samplers(ae.config, faces, mapsOf, samplerStates);
    const history = truncateHistory(modelDir, step, options.log);
    dropPreviewsAfter(modelDir, step);
    return new TrainingSession(modelDir, ae, optimizers, settings, faces, samplers, rng, step, ckptDir, history, cycle);
  }

  /**
   * A session on faces held in memory (RGB bytes at the model's input size, per identity), with no
   * model folder: nothing is written, and none of it can be saved. Masks are the ellipse (no
   * landmarks); a decoder kind that is set up from its faces' landmarks (the warping one) is refused.
   */
  static async inMemory(options: { faces: Record<string, Uint8Array[]>; config: ModelConfig; settings?: SettingsInput }): Promise<TrainingSession> {
    const { config } = options;
    validateModelConfig(config);
    const data = Object.fromEntries(config.identities.map((id) => [id, '']));
    const settings = defaultSettings(data, { ...options.settings, masks: 'ellipse' });
    const ae = buildAutoencoder(config, { seed: settings.seed });
    const kind = decoderKindOf(config);
    if (kind.needsLandmarks || kind.prepare) {
      disposeAutoencoder(ae);
      throw new Error(`a ${kind.name} decoder is set up from its faces' landmarks: train it on a face folder (TrainingSession.open)`);
    }
    const optimizers = Object.fromEntries(config.identities.map((id) => [id, makeOptimizer(settings.adam)]));
    const size = config.inputSize;
    const set = (id: string, pixels: Uint8Array[]): FaceSet => ({
      dir: '', size, files: pixels.map((_, i) => `${id}-${i}`), pixels, sources: pixels.map(() => ({ width: size, height: size })), skipped: [],
    });
    const faces: Record<string, IdentityFaces> = {};
    const mapsOf: Record<string, FaceMaps[] | undefined> = {};
    for (const id of config.identities) {
      const pixels = options.faces[id];
      if (!pixels?.length) throw new Error(`no faces for identity "${id}"`);
      faces[id] = { train: set(id, pixels), heldOut: set(id, []) };
      const needsMaps = config.mask || lossNeedsMaps(settings.loss) || (settings.augment.mixBackground ?? 0) > 0;
      mapsOf[id] = needsMaps ? await identityMaps(faces[id].train, settings, undefined, { landmarks: null }) : undefined;
    }
    const samplers = TrainingSession.samplers(config, faces, mapsOf, {});
    return new TrainingSession('', ae, optimizers, settings, faces, samplers, new Rng(settings.seed), 0, null, [], null, false);
  }

  /** One sampler per identity; background mixing draws from the other people's training faces. */
  private static samplers(config: ModelConfig, faces: Record<string, IdentityFaces>, mapsOf: Record<string, FaceMaps[] | undefined>, states: Record<string, SamplerState>): Record<string, FaceSampler> {
    return Object.fromEntries(config.identities.map((id) => {
      const others = config.identities.filter((o) => o !== id).flatMap((o) => faces[o].train.pixels);
      return [id, new FaceSampler(faces[id].train.pixels, config.inputSize, states[id], mapsOf[id], others, decoderKindOf(config).batchTargets)];
    }));
  }

  /**
   * Fit the learning-rate schedule to a run's budget: train until `untilStep`, or for `seconds` of
   * training steps, whichever ends first. The saved cycle continues when it has the same budget
   * and is unfinished (an interrupted run); otherwise a new cycle starts here (a warm restart).
   */
  beginCycle(budget: { untilStep?: number; seconds?: number }, options: { continueSaved?: boolean } = {}): LrCycle {
    const c = this.cycle;
    const same = c !== null && c.untilStep === (budget.untilStep ?? null) && c.seconds === (budget.seconds ?? null);
    if (options.continueSaved !== false && same && cycleProgress(c, this.step) < 1) return c;
    this.cycle = nextCycle(this.settings.schedule, this.settings.adam.learningRate, c, this.step, budget);
    return this.cycle;
  }

  /** The learning rate the next step uses. */
  get learningRate(): number {
    const c = this.cycle;
    return c ? learningRateAt(this.settings.schedule, c.peak, cycleProgress(c, this.step)) : this.settings.adam.learningRate;
  }

  get identities(): string[] {
    return this.ae.config.identities;
  }

  /** One step: a batch of each identity in turn, each updating the encoder and its decoder. */
  async trainStep(): Promise<HistoryEntry> {
    const t0 = performance.now();
    let prepMs = 0;
    const loss: Record<string, number> = {};
    const lr = this.learningRate;
    for (const id of this.identities) {
      this.optimizers[id].setLearningRate(lr);
      const p0 = performance.now();
      const batch = this.samplers[id].next(this.settings.batchSize, this.rng, this.settings.augment);
      prepMs += performance.now() - p0;
      const value = trainStep(this.ae, id, batch, this.optimizers[id], this.settings.loss);
      disposeBatch(batch);
      loss[id] = (await value.data())[0];
      value.dispose();
    }
    this.step++;
    const stepMs = performance.now() - t0;
    if (this.cycle) this.cycle.elapsedSeconds += stepMs / 1000;
    const entry: HistoryEntry = {
      step: this.step,
      loss,
      lr,
      facesPerSecond: (this.settings.batchSize * this.identities.length * 1000) / stepMs,
      prepMs,
      stepMs,
      time: new Date().toISOString(),
    };
    this.history.push(entry);
    if (this.persistent) appendHistory(this.modelDir, entry);
    this.diverged ??= this.watch.observe(entry);
    return entry;
  }

  async saveCheckpoint(): Promise<string> {
    this.requireFolder();
    const samplers = Object.fromEntries(Object.entries(this.samplers).map(([id, s]) => [id, s.saveState()]));
    return saveCheckpoint(this.modelDir, this.ae, this.optimizers, { step: this.step, rng: this.rng.state(), samplers, settings: this.settings, cycle: this.cycle });
  }

  /** Up to n faces per identity for previews: held-out ones when there are any. */
  previewFaces(id: string, n = 4): Uint8Array[] {
    const f = this.faces[id];
    return (f.heldOut.pixels.length ? f.heldOut.pixels : f.train.pixels).slice(0, n);
  }

  /** Write the preview grid of the first two identities; returns the PNG path. */
  async writePreview(file = path.join(this.modelDir, 'previews', `step-${String(this.step).padStart(8, '0')}.png`)): Promise<string> {
    this.requireFolder();
    const [a, b] = this.identities;
    const size = this.ae.config.inputSize;
    const ta = facesToTensor(this.previewFaces(a), size), tb = facesToTensor(this.previewFaces(b ?? a), size);
    try {
      return await writePreview(file, this.ae, ta, tb, [a, b ?? a]);
    } finally {
      tf.dispose([ta, tb]);
    }
  }

  private requireFolder(): void {
    if (!this.persistent) throw new Error('this session is held in memory: it has no model folder to save to');
  }

  dispose(): void {
    disposeAutoencoder(this.ae);
    for (const o of Object.values(this.optimizers)) o.dispose();
  }
}
