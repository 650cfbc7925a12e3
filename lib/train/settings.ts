// Everything about a training run that is not the model itself. Saved in every checkpoint, so a
// resumed run and `eval` see the same data split, crop, loss, schedule and augmentation.
// Recipes (recipes.ts) are named bundles of these settings with a model configuration.
// The settings' types and schemas are declared once, in settings-schema.ts.

import { deepMerge } from '../util/merge';
import { DEFAULT_AUGMENT } from './augment';
import { DEFAULT_LOSS } from './loss';
import { CONSTANT_LR } from './schedule';
import { CLASSIC_ADAM } from './step';
import type { SettingsInput, TrainSettings } from './settings-schema';

export { SavedSettingsSchema, TrainSettingsSchema, type SavedSettings, type SettingsInput, type TrainSettings } from './settings-schema';

/** Settings before any recipe: the 2018 code's choices. */
export const BASE_SETTINGS: Omit<TrainSettings, 'data'> = {
  batchSize: 16,
  seed: 1,
  adam: { ...CLASSIC_ADAM },
  schedule: { ...CONSTANT_LR },
  loss: { ...DEFAULT_LOSS },
  augment: { ...DEFAULT_AUGMENT },
  masks: 'ellipse',
  holdout: 0.1,
  cropFraction: 1,
  recipe: null,
  precision: 'fp32',
};

export function defaultSettings(data: Record<string, string>, overrides: SettingsInput = {}): TrainSettings {
  return normaliseSettings({ ...overrides, data });
}

/**
 * Complete settings from a partial or older record (a checkpoint written before a field existed
 * gets the behaviour it was trained with: the ellipse mask, a constant rate).
 */
export function normaliseSettings(s: SettingsInput & { data: Record<string, string> }): TrainSettings {
  return deepMerge<TrainSettings>({ ...BASE_SETTINGS, data: s.data }, s);
}
