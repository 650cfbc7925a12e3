// Everything about a training run that is not the model itself. Saved in every checkpoint, so a
// resumed run and `eval` see the same data split, crop, loss, schedule and augmentation.
// Recipes (recipes.ts) are named bundles of these settings with a model configuration.

import { z } from 'zod';
import { schemaFor, type ShapeOf } from '../util/jsonfile';
import { DEFAULT_AUGMENT, type AugmentOptions } from './augment';
import { DEFAULT_LOSS, type LossOptions } from './loss';
import { CONSTANT_LR, type LrSchedule } from './schedule';
import { CLASSIC_ADAM, type AdamSettings } from './step';
import type { Precision } from '../engine/native/precision';

export interface TrainSettings {
  /** Face folder of each identity (absolute paths). */
  data: Record<string, string>;
  /** Faces per identity per step. */
  batchSize: number;
  seed: number;
  /** Adam; its learningRate is the peak of the schedule's first cycle. */
  adam: AdamSettings;
  schedule: LrSchedule;
  loss: LossOptions;
  augment: AugmentOptions;
  /** Where face masks (mask target, loss weights) come from: each crop's landmarks, or a fixed ellipse. */
  masks: 'landmarks' | 'ellipse';
  /** Share of each folder held out of training, for `eval` (chosen by a hash of the file name). */
  holdout: number;
  /** Centred square crop as a fraction of the shorter side (1 for aligned crops). */
  cropFraction: number;
  /** The recipe these settings came from and what was given on top of it; null: none. */
  recipe: { name: string; overrides: Record<string, unknown> } | null;
  /** Convolutions in fp32, or bf16 with fp32 accumulation (native backend; lib/engine/native/precision.ts). */
  precision: Precision;
}

/** Settings as callers give them: any part, nested records too. */
export type SettingsInput = Partial<Omit<TrainSettings, 'data' | 'adam' | 'schedule' | 'loss' | 'augment'>> & {
  adam?: Partial<AdamSettings>;
  schedule?: Partial<LrSchedule>;
  loss?: Partial<LossOptions>;
  augment?: Partial<AugmentOptions>;
};

/** Settings as a checkpoint saved them: older checkpoints lack the fields added since. */
export type SavedSettings = SettingsInput & { data: Record<string, string> };

const adamShape = { learningRate: z.number(), beta1: z.number(), beta2: z.number() } satisfies ShapeOf<AdamSettings>;
const scheduleShape = { shape: z.enum(['constant', 'cosine']), warmup: z.number(), floor: z.number(), restart: z.number() } satisfies ShapeOf<LrSchedule>;
const lossShape = { ssimWeight: z.number(), maskWeighted: z.boolean(), background: z.number(), eyeWeight: z.number(), mouthWeight: z.number(), coordsWeight: z.number() } satisfies ShapeOf<LossOptions>;
const augmentShape = {
  rotation: z.number(), zoom: z.number(), shift: z.number(), flip: z.number(), warpGrid: z.number(), warpScale: z.number(),
  colourJitter: z.number(), mixBackground: z.number(),
} satisfies ShapeOf<AugmentOptions>;
const settingsShape = {
  data: z.record(z.string(), z.string()),
  batchSize: z.number(),
  seed: z.number(),
  adam: z.object(adamShape).partial(),
  schedule: z.object(scheduleShape).partial(),
  loss: z.object(lossShape).partial(),
  augment: z.object(augmentShape).partial(),
  masks: z.enum(['landmarks', 'ellipse']),
  holdout: z.number(),
  cropFraction: z.number(),
  recipe: z.object({ name: z.string(), overrides: z.record(z.string(), z.unknown()) }).nullable(),
  precision: z.enum(['fp32', 'bf16']),
} satisfies ShapeOf<TrainSettings>;

export const SavedSettingsSchema = schemaFor<SavedSettings>()(z.object(settingsShape).partial().required({ data: true }));

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
  return {
    ...BASE_SETTINGS,
    ...s,
    adam: { ...BASE_SETTINGS.adam, ...s.adam },
    schedule: { ...BASE_SETTINGS.schedule, ...s.schedule },
    loss: { ...BASE_SETTINGS.loss, ...s.loss },
    augment: { ...BASE_SETTINGS.augment, ...s.augment },
  };
}
