// One optimisation step for one identity: encoder + that identity's decoder learn to rebuild the
// unwarped face from the warped one. Each identity has its own Adam, as in the original code
// (two Keras models sharing one encoder, each compiled with its own optimizer).

import * as tf from '@tensorflow/tfjs';
import { decoderOf, trainableFor, type Autoencoder } from '../model/builder';
import { decoderKindOf } from '../model/decoders/registry';
import type { Batch } from './batches';
import { FusedAdamOptimizer } from '../engine/native/adam';
import { faceLoss, type LossOptions } from './loss';
import type { AdamSettings } from './settings-schema';

// Declared once, as a schema: lib/train/settings-schema.ts.
export type { AdamSettings } from './settings-schema';

/** The classic settings: Adam(lr=5e-5, beta_1=0.5, beta_2=0.999). */
export const CLASSIC_ADAM: AdamSettings = { learningRate: 5e-5, beta1: 0.5, beta2: 0.999 };

/** Adam; on the native backend its update is one compiled pass per variable (same arithmetic). */
export function makeOptimizer(s: AdamSettings): FusedAdamOptimizer {
  return new FusedAdamOptimizer(s.learningRate, s.beta1, s.beta2);
}

/**
 * Update the weights on one batch; returns the loss before the update (the caller disposes it).
 * The loss is the face loss of the decoder's output, plus the decoder kind's own term when it has
 * one (a warping decoder's pull of its texture coordinates towards the landmarks').
 */
export function trainStep(ae: Autoencoder, identity: string, batch: Batch, optimizer: tf.Optimizer, loss: LossOptions): tf.Scalar {
  const vars = trainableFor(ae, identity);
  const decoder = decoderOf(ae, identity);
  const kind = decoderKindOf(ae.config);
  // A kind's own weights are loss settings, read by name.
  const byName: Readonly<Record<string, unknown>> = loss;
  const weight = (name: string) => Number(byName[name] ?? 0);
  const { value, grads } = tf.variableGrads(() => {
    const code = ae.encoder.apply(batch.input, { training: true }) as tf.Tensor4D;
    const term = kind.lossTerm?.({ decoder, code, targets: batch.targets ?? {}, weight }) ?? null;
    const face = faceLoss(term ? term.output : (decoder.apply(code, { training: true }) as tf.Tensor4D), batch, loss);
    return term ? face.add(term.loss) : face;
  }, vars);
  optimizer.applyGradients(grads);
  tf.dispose(grads);
  return value;
}
