// Recipes: named bundles of a model configuration and the training settings that go with it
// (loss terms, masks, learning-rate schedule, crop, batch size, input size). `train --recipe`,
// `bench --quality --recipe`, chapter 03 and the demo all start from one of these; explicit
// options override single settings, and the checkpoint records the recipe and the overrides.
//
// The recipes form a ladder, each adding one idea to the one before, so `bench --quality --recipe
// all` shows what every idea is worth on this machine. DEFAULT_RECIPE is the one the measurements
// chose (see docs/recipes.md for the tables).

import { z } from 'zod';
import { presetConfig, type ModelConfig } from '../model/config';
import { deepMerge, type DeepPartial } from '../util/merge';
import { DEFAULT_AUGMENT } from './augment';
import { DEFAULT_LOSS } from './loss';
import { CONSTANT_LR, type LrSchedule } from './schedule';
import { BASE_SETTINGS } from './settings';
import { TrainSettingsSchema, type SettingsInput, type TrainSettings } from './settings-schema';

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

/**
 * What a recipe override is: where it lands in the resolved recipe and, for the ones the command
 * line offers, its flag. Registered on each override's schema, so the overrides' type, their
 * validation and the CLI flags (lib/commands/recipe-options.ts) come from one declaration each.
 */
export interface OverrideMeta {
  /** The field it sets: ['settings', 'adam', 'learningRate'], ['config', 'inputSize']... */
  at: readonly [keyof ResolvedRecipe, ...string[]];
  /** Its command-line flag (`train` and `bench --quality`); absent: an option of its own there. */
  flag?: string;
  /** The flag's placeholder in the help text. */
  arg?: string;
  description: string;
}
export const OVERRIDES = z.registry<OverrideMeta>();

const S = TrainSettingsSchema.shape;
/**
 * Single settings a user may give on top of a recipe (the CLI flags and notebook knobs): each is
 * the setting's own schema with the range a user may ask for. The model's input side and mask
 * channel belong to ModelConfig (lib/model/config.ts), whose schema is not an object to pick from.
 */
export const RecipeOverridesSchema = z.object({
  learningRate: S.adam.shape.learningRate.min(1e-9).max(1).register(OVERRIDES, { at: ['settings', 'adam', 'learningRate'], flag: 'lr', arg: 'X', description: "Adam's peak learning rate (the schedule's first cycle)" }),
  beta1: S.adam.shape.beta1.min(0).max(0.999).register(OVERRIDES, { at: ['settings', 'adam', 'beta1'], flag: 'beta1', arg: 'B', description: "Adam's first-moment decay (the 2018 code used 0.5)" }),
  batchSize: S.batchSize.min(1).max(4096).register(OVERRIDES, { at: ['settings', 'batchSize'], flag: 'batch', arg: 'N', description: 'faces per identity per step' }),
  cropFraction: S.cropFraction.min(0.05).max(1).register(OVERRIDES, { at: ['settings', 'cropFraction'], flag: 'crop', arg: 'F', description: 'centred square crop, as a fraction of the shorter side' }),
  inputSize: z.number().int().min(16).max(1024).register(OVERRIDES, { at: ['config', 'inputSize'], flag: 'size', arg: 'PX', description: 'model input side in pixels' }),
  ssimWeight: S.loss.shape.ssimWeight.min(0).max(100).register(OVERRIDES, { at: ['settings', 'loss', 'ssimWeight'], flag: 'ssim', arg: 'W', description: 'weight of the (1 - SSIM) loss term (0: off)' }),
  maskWeighted: S.loss.shape.maskWeighted.register(OVERRIDES, { at: ['settings', 'loss', 'maskWeighted'], flag: 'mask-weighted', description: "weight each pixel's error by the face mask (landmark masks)" }),
  mask: z.boolean().register(OVERRIDES, { at: ['config', 'mask'], flag: 'mask', description: 'a learned mask channel in the decoders (landmark masks)' }),
  seed: S.seed.min(0).register(OVERRIDES, { at: ['settings', 'seed'], description: 'random seed' }),
  schedule: S.schedule.shape.shape.register(OVERRIDES, { at: ['settings', 'schedule'], flag: 'schedule', description: 'learning-rate schedule (cosine: warm-up, then a decay to 5% of the peak)' }),
  precision: S.precision.register(OVERRIDES, { at: ['settings', 'precision'], description: 'fp32 or bf16 convolutions (lib/engine/native/precision.ts)' }),
}).partial();
export type RecipeOverrides = z.infer<typeof RecipeOverridesSchema>;
export type RecipeOverrideName = keyof RecipeOverrides;

/** An override's own schema (inside .partial()'s optional) and what is registered about it. */
export function overrideField(key: RecipeOverrideName): { schema: z.ZodType; meta: OverrideMeta } {
  const schema = RecipeOverridesSchema.shape[key].unwrap();
  const meta = OVERRIDES.get(schema);
  if (!meta) throw new Error(`recipe override ${key} has no registered metadata`);
  return { schema, meta };
}

export interface ResolvedRecipe {
  config: ModelConfig;
  /** Settings without the data folders (the session adds them). */
  settings: Omit<TrainSettings, 'data'>;
}

/** The patch one override makes: its value at its place (`at`), a record per level. */
function patchOf(at: readonly string[], value: unknown): DeepPartial<ResolvedRecipe> {
  // Built from the registered path, so its type is only known as a nesting of records.
  return at.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value) as DeepPartial<ResolvedRecipe>;
}

/** A recipe with overrides applied: the model to build and the settings to train it with. */
export function resolveRecipe(name: RecipeName, overrides: RecipeOverrides = {}): ResolvedRecipe {
  const r = RECIPES[name];
  const given = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as RecipeOverrides;
  const base = deepMerge<ResolvedRecipe>({ config: r.model, settings: BASE_SETTINGS }, { settings: r.settings });
  const patches = Object.entries(given).map(([key, value]) => {
    const at = overrideField(key as RecipeOverrideName).meta.at;
    // The schedule override names a shape: constant is CONSTANT_LR, cosine the recipe's own cosine or COSINE.
    if (key === 'schedule') return patchOf(at, value === 'constant' ? CONSTANT_LR : base.settings.schedule.shape === 'cosine' ? base.settings.schedule : COSINE);
    return patchOf(at, value);
  });
  return deepMerge<ResolvedRecipe>(base, ...patches, {
    // A mask channel or mask weighting wants the real masks, whatever the recipe drew before.
    settings: { masks: given.mask || given.maskWeighted ? 'landmarks' : base.settings.masks, recipe: { name, overrides: given } },
  });
}
