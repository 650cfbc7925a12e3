// What a kind of decoder is to the rest of the project. The shared encoder turns a face into a
// code; a decoder turns a code into its person's face, and how it does that is its kind: the 2018
// decoder paints every pixel (painting.ts), the warping decoder moves and relights a photo of its
// person (warping.ts). A new kind is one file implementing this interface plus a line in
// registry.ts; training, swapping and scoring ask the kind and name none.

import type * as tf from '@tensorflow/tfjs';
import type { FaceSet } from '../../data/face-set';
import type { Point } from '../../faces/types';
import type { Initializer } from '../blocks';
import type { ModelConfig } from '../config';

/** One person's training faces as a kind sees them when a session opens. */
export interface PersonFaces {
  /** The person's name in ModelConfig.identities. */
  id: string;
  set: FaceSet;
  /** Each face's 68 landmarks in the model's input frame, or null where unknown (always null unless the kind needsLandmarks). */
  landmarks: Array<Point[] | null>;
  /** Face `index` of the set again, at `side` pixels (for a kind that keeps a larger copy). */
  larger(index: number, side: number): Promise<Uint8Array>;
}

/** What a kind's own loss term gets in a training step. */
export interface LossTermInput {
  decoder: tf.LayersModel;
  /** The shared encoder's output for the batch (training mode). */
  code: tf.Tensor4D;
  /** The batch's stacks of the kind's own per-face maps (batchTargets), by name; empty when the faces have none. */
  targets: Readonly<Record<string, tf.Tensor4D>>;
  /** A numeric loss setting by name (0 when unset): a kind's own weights live in the loss settings. */
  weight(name: string): number;
}

export interface DecoderKind {
  /** Its name in ModelConfig.decoder. */
  readonly name: string;
  /** One line: what the decoder outputs and from what. */
  readonly summary: string;
  /** Why a configuration cannot build this kind (none: it can). */
  validate?(c: ModelConfig): string[];
  /** The decoder's layers on the shared code: its output [n, s, s, 3], or 4 channels with the mask (c.mask). */
  build(c: ModelConfig, code: tf.SymbolicTensor, init: () => Initializer): tf.SymbolicTensor;
  /** Preparing and training need each face's landmarks (loaded with the faces when a session opens). */
  readonly needsLandmarks?: boolean;
  /** Sets a new decoder up from its person's training faces, before its first step. */
  prepare?(decoder: tf.LayersModel, faces: PersonFaces, log: (line: string) => void): Promise<void>;
  /**
   * Maps of its own per face, in the face's frame (size*size floats each), drawn once when a
   * session opens and moved with the augmentation like the face masks; null for a face without.
   * `masks` are the faces' masks.
   */
  faceMaps?(decoder: tf.LayersModel, faces: PersonFaces, masks: Float32Array[]): Promise<Array<Record<string, Float32Array> | null>>;
  /** How a batch stacks those maps: a tensor name -> the map names that are its channels. */
  readonly batchTargets?: Readonly<Record<string, readonly string[]>>;
  /**
   * A loss term of its own for a training step: the decoder's output (computed along with what the
   * term needs) and the term, added to the face loss; null when it has none this step.
   */
  lossTerm?(input: LossTermInput): { output: tf.Tensor4D; loss: tf.Scalar } | null;
  /** A swap's faces from another person's codes [n, s, s, 3 (+1)]; default: the decoder's own output. */
  swap?(decoder: tf.LayersModel, codes: tf.Tensor4D, c: ModelConfig): tf.Tensor4D;
  /** How many times larger than the input renderSwapLarge draws (1 or absent: it does not). */
  detail?(c: ModelConfig): number;
  /** A swap drawn detail(c) times larger: real detail the kind keeps, not an enlargement. */
  renderSwapLarge?(decoder: tf.LayersModel, codes: tf.Tensor4D, c: ModelConfig): tf.Tensor4D;
}
