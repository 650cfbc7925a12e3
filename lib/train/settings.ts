// Everything about a training run that is not the model itself. Saved in every checkpoint, so a
// resumed run and `eval` see the same data split, crop and augmentation.

import { DEFAULT_AUGMENT, type AugmentOptions } from './augment';
import { DEFAULT_LOSS, type LossOptions } from './loss';
import { CLASSIC_ADAM, type AdamSettings } from './step';

export interface TrainSettings {
  /** Face folder of each identity (absolute paths). */
  data: Record<string, string>;
  /** Faces per identity per step. */
  batchSize: number;
  seed: number;
  adam: AdamSettings;
  loss: LossOptions;
  augment: AugmentOptions;
  /** Share of each folder held out of training, for `eval` (chosen by a hash of the file name). */
  holdout: number;
  /** Centred square crop as a fraction of the shorter side (1 for aligned crops). */
  cropFraction: number;
}

export function defaultSettings(data: Record<string, string>, overrides: Partial<TrainSettings> = {}): TrainSettings {
  return {
    data,
    batchSize: 16,
    seed: 1,
    adam: { ...CLASSIC_ADAM },
    loss: { ...DEFAULT_LOSS },
    augment: { ...DEFAULT_AUGMENT },
    holdout: 0.1,
    cropFraction: 1,
    ...overrides,
  };
}
