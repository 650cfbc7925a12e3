// The training settings' schemas: each settings object is declared once, here, as a zod schema.
// Its TypeScript type is the schema's (z.infer), a checkpoint's settings are read through it
// (settings.ts), and the recipe overrides and their command-line flags are drawn from its fields
// (recipes.ts, lib/commands/recipe-options.ts). Defaults live beside the code that uses them
// (CLASSIC_ADAM in step.ts, DEFAULT_LOSS in loss.ts, CONSTANT_LR in schedule.ts, DEFAULT_AUGMENT
// in augment.ts, BASE_SETTINGS in settings.ts). No imports but zod, so any file may use them.

import { z } from 'zod';

export const AdamSettingsSchema = z.object({
  learningRate: z.number(),
  /** Adam's first-moment decay (the 2018 code used 0.5). */
  beta1: z.number(),
  beta2: z.number(),
});
export type AdamSettings = z.infer<typeof AdamSettingsSchema>;

export const LrScheduleSchema = z.object({
  /** 'constant': the peak rate throughout; 'cosine': warm-up, then a cosine decay to the floor. */
  shape: z.enum(['constant', 'cosine']),
  /** Share of a cycle spent warming up linearly from the floor to the peak. */
  warmup: z.number(),
  /** The rate at the end of a cycle, as a share of its peak. */
  floor: z.number(),
  /** Each further cycle's peak, as a share of the previous one's. */
  restart: z.number(),
});
export type LrSchedule = z.infer<typeof LrScheduleSchema>;

export const LossOptionsSchema = z.object({
  /** Weight of (1 - SSIM) added to the L1 term. 0: off. */
  ssimWeight: z.number(),
  /** Weight each pixel's error by the target's face mask. */
  maskWeighted: z.boolean(),
  /** With maskWeighted: the weight of pixels outside the face (0: ignored, 1: as inside). */
  background: z.number(),
  /** Extra weight of the eye regions: their pixels count (1 + eyeWeight) times. */
  eyeWeight: z.number(),
  /** Extra weight of the mouth region. */
  mouthWeight: z.number(),
  /**
   * The warping decoder's own loss term (lib/model/decoders/warping.ts, which reads it by name): the
   * weight of the pull of its texture coordinates towards the landmarks'. 0 or absent: no pull.
   */
  coordsWeight: z.number().optional(),
});
export type LossOptions = z.infer<typeof LossOptionsSchema>;

export const AugmentOptionsSchema = z.object({
  /** Maximum rotation, degrees either way. */
  rotation: z.number(),
  /** Maximum zoom, as a fraction either way (0.05: 95% to 105%). */
  zoom: z.number(),
  /** Maximum shift, as a fraction of the side either way. */
  shift: z.number(),
  /** Probability of a horizontal flip. */
  flip: z.number(),
  /** Control points per side of the warp grid. */
  warpGrid: z.number(),
  /** Standard deviation of each control point's jitter, as a fraction of the side. 0: no warp. */
  warpScale: z.number(),
  /**
   * Colour jitter of the input only: each channel multiplied by exp(N(0, colourJitter)). The
   * target keeps its colours, so the encoder learns to describe a face without trusting its
   * colour cast (which differs between two people's photos), and each decoder paints its own
   * person's colours. 0 or absent: off.
   */
  colourJitter: z.number().optional(),
  /**
   * Share of inputs whose background (everything outside the face mask) is taken from a face of
   * the other person. Hair and background then tell the encoder nothing about who it sees, so it
   * must describe A's and B's faces alike (pose, expression, light): the codes overlap, and a
   * decoder meets codes like its own in a swap. The target keeps its own background. 0 or absent: off.
   */
  mixBackground: z.number().optional(),
});
export type AugmentOptions = z.infer<typeof AugmentOptionsSchema>;

export const TrainSettingsSchema = z.object({
  /** Face folder of each identity (absolute paths). */
  data: z.record(z.string(), z.string()),
  /** Faces per identity per step. */
  batchSize: z.number().int(),
  seed: z.number().int(),
  /** Adam; its learningRate is the peak of the schedule's first cycle. */
  adam: AdamSettingsSchema,
  schedule: LrScheduleSchema,
  loss: LossOptionsSchema,
  augment: AugmentOptionsSchema,
  /** Where face masks (mask target, loss weights) come from: each crop's landmarks, or a fixed ellipse. */
  masks: z.enum(['landmarks', 'ellipse']),
  /** Share of each folder held out of training, for `eval` (chosen by a hash of the file name). */
  holdout: z.number(),
  /** Centred square crop as a fraction of the shorter side (1 for aligned crops). */
  cropFraction: z.number(),
  /** The recipe these settings came from and what was given on top of it; null: none. */
  recipe: z.object({ name: z.string(), overrides: z.record(z.string(), z.unknown()) }).nullable(),
  /** Convolutions in fp32, or bf16 with fp32 accumulation (native backend; lib/engine/native/precision.ts). */
  precision: z.enum(['fp32', 'bf16']),
});
export type TrainSettings = z.infer<typeof TrainSettingsSchema>;

/** Settings as callers give them: any part, nested records too (the data folders come apart). */
export const SettingsInputSchema = TrainSettingsSchema.omit({ data: true })
  .extend({ adam: AdamSettingsSchema.partial(), schedule: LrScheduleSchema.partial(), loss: LossOptionsSchema.partial(), augment: AugmentOptionsSchema.partial() })
  .partial();
export type SettingsInput = z.infer<typeof SettingsInputSchema>;

/** Settings as a checkpoint saved them: older checkpoints lack the fields added since. */
export const SavedSettingsSchema = SettingsInputSchema.extend({ data: TrainSettingsSchema.shape.data });
export type SavedSettings = z.infer<typeof SavedSettingsSchema>;
