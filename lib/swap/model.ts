// The trained model as the swap sees it: decode a batch of faces as one identity, plus what the
// swap must know to prepare faces exactly as training saw them (the aligned crop's geometry, the
// centre crop fraction, the input size). Tests plug in models of their own through this interface.

import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../engine/backend';
import { ALIGNMENTS_FILE, readAlignments } from '../faces/alignments';
import { DEFAULT_CROP, type CropGeometry } from '../faces/template';
import { decoderOf, disposeAutoencoder, swapDecode, type Autoencoder } from '../model/builder';
import { decoderKindOf } from '../model/decoders/registry';
import { loadNewestCheckpoint } from '../train/checkpoint';

export interface SwapModel {
  /** Side of the model's square input and output, in pixels. */
  inputSize: number;
  /** The model's input is the centred square of this fraction of the aligned crop. */
  cropFraction: number;
  /** The aligned crops the model was trained on (extraction's size and margin). */
  geometry: CropGeometry;
  identities: string[];
  /** Training face folder per identity, when known (for the "is this person A" filter). */
  data: Record<string, string>;
  /** Where the weights came from, for reports. */
  source: { checkpoint: string | null; step: number | null };
  /** Faces [n, s, s, 3] in [0, 1] decoded as `identity`: [n, s, s, 3], or 4 with a mask channel. */
  decode(faces: tf.Tensor4D, identity: string): tf.Tensor4D;
  /**
   * The swapped faces rendered `detail` times larger [n, s*detail, s*detail, 3], by a decoder kind
   * that keeps real detail at that size (a warping model's photo: not an enlargement); absent when it has none.
   */
  decodeDetailed?: (faces: tf.Tensor4D, identity: string) => tf.Tensor4D;
  /** How many times larger decodeDetailed draws (1: no detailed render). */
  detail?: number;
  dispose(): void;
}

/** The aligned-crop geometry the faces in `dir` were extracted with; defaults when unknown. */
export function trainingGeometry(dir: string | undefined): CropGeometry {
  const a = dir ? readAlignments(path.join(dir, ALIGNMENTS_FILE)) : null;
  const { size, margin } = (a?.options ?? {}) as { size?: unknown; margin?: unknown };
  return typeof size === 'number' && typeof margin === 'number' ? { size, margin } : DEFAULT_CROP;
}

/** A SwapModel over an autoencoder in memory (a training session's, or one just loaded). */
export function swapModelOf(ae: Autoencoder, cropFraction: number, geometry: CropGeometry, data: Record<string, string>, source: SwapModel['source'] = { checkpoint: null, step: null }): SwapModel {
  const kind = decoderKindOf(ae.config);
  const detail = kind.detail?.(ae.config) ?? 1;
  const large = kind.renderSwapLarge;
  return {
    inputSize: ae.config.inputSize,
    cropFraction,
    geometry,
    identities: ae.config.identities,
    data,
    source,
    decode: (faces, identity) => swapDecode(ae, faces, identity),
    ...(detail > 1 && large
      ? { detail, decodeDetailed: (faces: tf.Tensor4D, identity: string) => tf.tidy(() => large(decoderOf(ae, identity), ae.encoder.predict(faces) as tf.Tensor4D, ae.config)) }
      : {}),
    dispose: () => disposeAutoencoder(ae),
  };
}

/**
 * The newest checkpoint of a model folder written by `train`. `swapLight` replaces the model's own
 * (ModelConfig.swapLight: how much of a warping decoder's light a swap keeps).
 */
export async function loadSwapModel(modelDir: string, options: { swapLight?: number; log?: (line: string) => void } = {}): Promise<SwapModel> {
  await initBackend();
  // A damaged newest checkpoint falls back to the one before, said in one line (stderr by default:
  // notebooks and benches should not swap with an older model silently).
  const ck = await loadNewestCheckpoint(path.resolve(modelDir), options.log ?? ((line) => process.stderr.write(`${line}\n`)));
  if (!ck) throw new Error(`${modelDir} holds no checkpoint (train first)`);
  const ckptDir = ck.dir;
  // The optimizer state is for resuming training; a swap never needs it.
  for (const o of Object.values(ck.optimizers)) o.dispose();
  const { state } = ck;
  const ae = options.swapLight === undefined ? ck.ae : { ...ck.ae, config: { ...ck.ae.config, swapLight: options.swapLight } };
  const data = state.settings.data;
  const first = Object.values(data).find((d) => fs.existsSync(d));
  return swapModelOf(ae, state.settings.cropFraction, trainingGeometry(first), data, { checkpoint: ckptDir, step: state.step });
}
