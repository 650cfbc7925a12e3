// The options `train` and `bench --quality` share: a recipe, and single settings on top of it.

import { isRecipeName, recipeNames, type RecipeName, type RecipeOverrides } from '../train/recipes';
import { isPrecision, type Precision } from '../engine/native/precision';
import { intOption, numberOption, UsageError, type Options, type Values } from './command';

export const RECIPE_OPTIONS: Options = {
  lr: { type: 'string' },
  beta1: { type: 'string' },
  batch: { type: 'string' },
  crop: { type: 'string' },
  size: { type: 'string' },
  ssim: { type: 'string' },
  'mask-weighted': { type: 'boolean' },
  mask: { type: 'boolean' },
  schedule: { type: 'string' },
};

export const RECIPE_USAGE = '[--lr X] [--beta1 B] [--batch N] [--crop F] [--size PX] [--ssim W] [--mask-weighted] [--mask] [--schedule constant|cosine]';

/** A recipe name, or a UsageError listing the known ones. */
export function recipeOption(name: string): RecipeName {
  if (!isRecipeName(name)) throw new UsageError(`--recipe must be one of ${recipeNames().join(', ')}${name ? '' : ' (or all)'}, got ${name}`);
  return name;
}

/** The override flags given (absent ones stay undefined: the recipe decides). */
export function recipeOverrides(values: Values): RecipeOverrides {
  const has = (k: string) => values[k] !== undefined;
  const schedule = values.schedule;
  if (schedule !== undefined && schedule !== 'constant' && schedule !== 'cosine') throw new UsageError(`--schedule must be constant or cosine, got ${String(schedule)}`);
  return {
    learningRate: has('lr') ? numberOption(values, 'lr', 0, 1e-9, 1) : undefined,
    beta1: has('beta1') ? numberOption(values, 'beta1', 0, 0, 0.999) : undefined,
    batchSize: has('batch') ? intOption(values, 'batch', 0, 1, 4096) : undefined,
    cropFraction: has('crop') ? numberOption(values, 'crop', 0, 0.05, 1) : undefined,
    inputSize: has('size') ? intOption(values, 'size', 0, 16, 1024) : undefined,
    ssimWeight: has('ssim') ? numberOption(values, 'ssim', 0, 0, 100) : undefined,
    maskWeighted: has('mask-weighted') ? values['mask-weighted'] === true : undefined,
    mask: has('mask') ? values.mask === true : undefined,
    schedule: schedule as RecipeOverrides['schedule'],
  };
}

/** --precision fp32|bf16, or undefined when not given (a continued run keeps its checkpoint's). */
export function precisionOption(values: Values): Precision | undefined {
  const p = values.precision;
  if (p === undefined) return undefined;
  if (!isPrecision(p)) throw new UsageError(`--precision must be fp32 or bf16, got ${String(p)}`);
  return p;
}
