// Recipes: named bundles of a model configuration and the training settings that go with it
// (loss terms, masks, learning-rate schedule, crop, batch size, input size). `train --recipe`,
// `bench --quality --recipe`, chapter 03 and the demo all start from one of these; explicit
// options override single settings, and the checkpoint records the recipe and the overrides.
//
// The recipes form a ladder, each adding one idea to the one before, so `bench --quality --recipe
// all` shows what every idea is worth on this machine. DEFAULT_RECIPE is the one the measurements
// chose (see docs/recipes.md for the tables).

import { presetConfig, type ModelConfig } from '../model/config';
import { DEFAULT_AUGMENT } from './augment';
import { DEFAULT_LOSS } from './loss';
import { CONSTANT_LR, type LrSchedule } from './schedule';
import { normaliseSettings, type SettingsInput, type TrainSettings } from './settings';
import type { Precision } from '../engine/native/precision';

export interface Recipe {
  name: string;
  /** One line: what this recipe changes, and why. */
  summary: string;
  model: ModelConfig;
  /** Settings on top of BASE_SETTINGS (the 2018 code's). */
  settings: SettingsInput;
}

const COSINE: LrSchedule = { shape: 'cosine', warmup: 0.05, floor: 0.05, restart: 0.5 };

// Chapter 03's recipe before recipes existed: the `lite` model, Adam at 5e-4 (ten times the 2018
// rate, for a run of minutes), the centre 0.75 of each crop, plain L1.
const classic: Recipe = {
  name: 'classic',
  summary: 'the 2018 recipe on the lite model, sped up for minutes: L1 loss, constant rate 5e-4, the centre 0.75 of each crop',
  model: presetConfig('lite'),
  settings: { batchSize: 16, cropFraction: 0.75, adam: { learningRate: 5e-4, beta1: 0.5, beta2: 0.999 }, schedule: CONSTANT_LR },
};

const masked: Recipe = {
  name: 'masked',
  summary: 'classic + the loss weighted by each face\'s landmark mask (background at 0.2): capacity goes to the face',
  model: classic.model,
  settings: { ...classic.settings, masks: 'landmarks', loss: { ...DEFAULT_LOSS, maskWeighted: true, background: 0.2 } },
};

const dssim: Recipe = {
  name: 'dssim',
  summary: 'masked + an SSIM term and extra weight on eyes (x3) and mouth (x2), as faceswap and DeepFaceLab do',
  model: classic.model,
  settings: { ...masked.settings, loss: { ...DEFAULT_LOSS, maskWeighted: true, background: 0.2, ssimWeight: 1, eyeWeight: 2, mouthWeight: 1 } },
};

const mixed: Recipe = {
  name: 'mixed',
  summary: 'dssim + half the inputs on the other person\'s background, batch 8: hair and background stop telling the encoder who it sees',
  model: classic.model,
  settings: { ...dssim.settings, batchSize: 8, augment: { ...DEFAULT_AUGMENT, mixBackground: 0.5 } },
};

const scheduled: Recipe = {
  name: 'scheduled',
  summary: 'mixed + a learning-rate schedule fitted to the budget: a short warm-up to 5e-4, then a cosine decay to 2.5e-5',
  model: classic.model,
  settings: { ...mixed.settings, schedule: COSINE },
};

const resdec: Recipe = {
  name: 'resdec',
  summary: 'scheduled + a residual block after each decoder upscale (DeepFaceLab\'s decoder): more painting capacity, about 20% more time per step',
  model: { ...presetConfig('lite'), decoderResBlocks: 1 },
  settings: scheduled.settings,
};

// CPU-first allocation: the encoder's convolutions slimmed (they cost as much as a decoder), the
// time saved spent on residual blocks where the decoder's images are still small.
const cpu: Recipe = {
  name: 'cpu',
  summary: 'scheduled on a CPU-first model: a leaner encoder (widths 24-192) and residual blocks in the decoder at 16 and 32 px',
  model: { ...presetConfig('lite'), encoderWidths: [24, 48, 96, 192], decoderResBlocks: [1, 1, 0] },
  settings: scheduled.settings,
};

// The same recipe at 96 px: 2.25 times the pixels (and the time per step), for a sharper face in the photo.
const hq96: Recipe = {
  name: 'hq96',
  summary: 'scheduled at 96 px input: sharper faces pasted back into photos, at 2.25x the cost per step',
  model: { ...presetConfig('lite'), inputSize: 96 },
  settings: scheduled.settings,
};

// Warping decoders (lib/model/decoders/warping-layers.ts): each decoder moves and relights one real photo of its
// own person, and paints nothing: any path that can paint learns to blur (docs/recipes.md, "Tried and not adopted").
const warp: Recipe = {
  name: 'warp',
  summary: 'scheduled with warping decoders: each moves and relights one real photo of its own person instead of painting every pixel',
  // A swap keeps half of its light (the light's square root): a whole light also paints the source
  // person's shading, and on lfw-pair's Powell -> Bush that cost half the swaps their identity
  // (bench/warp-limits.ts; docs/recipes.md, "How much light a swap keeps").
  model: { ...presetConfig('lite'), decoder: 'warping', warpDetail: 3, swapLight: 0.5 },
  // No mirrored targets: a mirror image is no small move of the texture. The coordinates are pulled
  // towards the landmarks' with weight 1 (an error of a texture side costs as much as an L1 of 1).
  settings: { ...scheduled.settings, augment: { ...DEFAULT_AUGMENT, ...scheduled.settings.augment, flip: 0 }, loss: { ...scheduled.settings.loss!, coordsWeight: 1 } },
};

export const RECIPES = { classic, masked, dssim, mixed, scheduled, resdec, cpu, hq96, warp } satisfies Record<string, Recipe>;
export type RecipeName = keyof typeof RECIPES;

/** The recipe `train`, `bench --quality`, the notebooks and the demo use unless told otherwise. */
export const DEFAULT_RECIPE: RecipeName = 'warp';

export function isRecipeName(s: string): s is RecipeName {
  return Object.prototype.hasOwnProperty.call(RECIPES, s);
}

export function recipeNames(): RecipeName[] {
  return Object.keys(RECIPES) as RecipeName[];
}

/** Single settings a user may give on top of a recipe (the CLI flags and notebook knobs). */
export interface RecipeOverrides {
  learningRate?: number;
  /** Adam's first-moment decay (the 2018 code used 0.5). */
  beta1?: number;
  batchSize?: number;
  cropFraction?: number;
  /** Model input side in pixels. */
  inputSize?: number;
  ssimWeight?: number;
  maskWeighted?: boolean;
  /** A learned mask channel in the decoders. */
  mask?: boolean;
  seed?: number;
  schedule?: LrSchedule['shape'];
  /** fp32 or bf16 convolutions (lib/engine/native/precision.ts). */
  precision?: Precision;
}

export interface ResolvedRecipe {
  config: ModelConfig;
  /** Settings without the data folders (the session adds them). */
  settings: Omit<TrainSettings, 'data'>;
}

/** A recipe with overrides applied: the model to build and the settings to train it with. */
export function resolveRecipe(name: RecipeName, overrides: RecipeOverrides = {}): ResolvedRecipe {
  const r = RECIPES[name];
  const given = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as RecipeOverrides;
  const config: ModelConfig = {
    ...r.model,
    encoderWidths: [...r.model.encoderWidths],
    decoderWidths: [...r.model.decoderWidths],
    identities: [...r.model.identities],
    ...(given.inputSize !== undefined ? { inputSize: given.inputSize } : {}),
    ...(given.mask !== undefined ? { mask: given.mask } : {}),
  };
  const base = normaliseSettings({ ...r.settings, augment: { ...DEFAULT_AUGMENT, ...r.settings.augment }, data: {} });
  const { data: _data, ...settings } = normaliseSettings({
    ...base,
    data: {},
    batchSize: given.batchSize ?? base.batchSize,
    cropFraction: given.cropFraction ?? base.cropFraction,
    seed: given.seed ?? base.seed,
    precision: given.precision ?? base.precision,
    adam: { ...base.adam, learningRate: given.learningRate ?? base.adam.learningRate, beta1: given.beta1 ?? base.adam.beta1 },
    schedule: given.schedule === undefined ? base.schedule : given.schedule === 'constant' ? CONSTANT_LR : { ...COSINE, ...(base.schedule.shape === 'cosine' ? base.schedule : {}) },
    loss: { ...base.loss, ssimWeight: given.ssimWeight ?? base.loss.ssimWeight, maskWeighted: given.maskWeighted ?? base.loss.maskWeighted },
    // A mask channel or mask weighting wants the real masks, whatever the recipe drew before.
    masks: given.mask || given.maskWeighted ? 'landmarks' : base.masks,
    recipe: { name, overrides: given as Record<string, unknown> },
  });
  return { config, settings };
}
