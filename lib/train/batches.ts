// Batches for one identity: faces drawn epoch by epoch (each face once per pass, in a fresh random
// order) and augmented. The sampler's position is part of a checkpoint, so a resumed run continues
// the same sequence.

import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { augmentFace, withBackground, type AugmentOptions } from './augment';
import type { Rng } from '../util/rng';

export interface Batch {
  /** Warped faces, the network's input. [n, s, s, 3] */
  input: tf.Tensor4D;
  /** Unwarped faces, what it must paint. [n, s, s, 3] */
  target: tf.Tensor4D;
  /** Face masks in the target's frame [n, s, s, 1] (when the faces have maps). */
  mask?: tf.Tensor4D;
  /**
   * The same masks and the per-pixel loss weights, repeated over the 3 colour channels
   * [n, s, s, 3]: the native backend multiplies same-shaped tensors in compiled code, while
   * broadcasting a last axis of 1 falls back to JavaScript (measured: 217 ms of a 590 ms step).
   */
  mask3?: tf.Tensor4D;
  weight?: tf.Tensor4D;
  /**
   * The decoder kind's own targets (its batchTargets: a warping decoder's texture coordinates and
   * their weights), each [n, s, s, channels], moved with the augmentation; zeros for a face without.
   */
  targets?: Record<string, tf.Tensor4D>;
}

/** A one-channel array (n*s*s) repeated into 3 channels (n*s*s*3). */
function threeChannels(x: Float32Array): Float32Array {
  const out = new Float32Array(x.length * 3);
  for (let i = 0, j = 0; i < x.length; i++, j += 3) out[j] = out[j + 1] = out[j + 2] = x[i];
  return out;
}

/** Maps of one face in its own frame (size*size floats each): its face mask and its loss weights. */
export interface FaceMaps {
  mask: Float32Array;
  weight: Float32Array;
  /** The decoder kind's own maps of this face, by name (DecoderKind.faceMaps); absent where it has none. */
  extra?: Record<string, Float32Array>;
}

/** One-channel arrays (n*s*s each) interleaved into one of as many channels. */
function interleave(channels: Float32Array[]): Float32Array {
  const k = channels.length, n = channels[0]!.length;
  const out = new Float32Array(n * k);
  for (let c = 0; c < k; c++) {
    const x = channels[c]!;
    for (let i = 0; i < n; i++) out[i * k + c] = x[i]!;
  }
  return out;
}

export const SamplerStateSchema = z.object({ order: z.array(z.number()), position: z.number() });
export type SamplerState = z.infer<typeof SamplerStateSchema>;

export class FaceSampler {
  private state: SamplerState;

  /**
   * `maps[i]` belongs to `faces[i]`; without maps, batches carry no mask and no weights.
   * `backgrounds`: faces of other people whose backgrounds augment.mixBackground draws from (needs maps).
   * `targets`: how batches stack the maps' extras (DecoderKind.batchTargets).
   */
  constructor(
    private readonly faces: Uint8Array[],
    private readonly size: number,
    state?: SamplerState,
    private readonly maps?: FaceMaps[],
    private readonly backgrounds: Uint8Array[] = [],
    private readonly targets: Readonly<Record<string, readonly string[]>> = {},
  ) {
    if (faces.length === 0) throw new Error('no faces to sample from');
    if (maps && maps.length !== faces.length) throw new Error(`${maps.length} face maps for ${faces.length} faces`);
    // A saved order only fits the same number of faces; otherwise start a fresh epoch.
    this.state = state && state.order.length === faces.length ? { order: [...state.order], position: state.position } : { order: [], position: 0 };
  }

  /** Indices of the next n faces, starting a new shuffled pass whenever one ends. */
  nextIndices(n: number, rng: Rng): number[] {
    const out: number[] = [];
    while (out.length < n) {
      if (this.state.position >= this.state.order.length) this.state = { order: rng.permutation(this.faces.length), position: 0 };
      out.push(this.state.order[this.state.position++]);
    }
    return out;
  }

  /** The next augmented batch as tensors (the caller disposes them). */
  next(n: number, rng: Rng, augment: AugmentOptions): Batch {
    const s = this.size;
    const input = new Float32Array(n * s * s * 3);
    const target = new Float32Array(n * s * s * 3);
    const mask = this.maps && new Float32Array(n * s * s);
    const weight = this.maps && new Float32Array(n * s * s);
    // The decoder kind's maps, when the faces have them; a face without has zeros.
    const names = this.maps?.some((m) => m.extra) ? [...new Set(Object.values(this.targets).flat())] : [];
    const extra = Object.fromEntries(names.map((name) => [name, new Float32Array(n * s * s)]));
    const none = new Float32Array(s * s);
    const mix = augment.mixBackground ?? 0;
    this.nextIndices(n, rng).forEach((face, at) => {
      const m = this.maps?.[face];
      const maps = m && mask && weight ? [{ src: m.mask, dst: mask }, { src: m.weight, dst: weight }] : undefined;
      if (maps) for (const name of names) maps.push({ src: m!.extra?.[name] ?? none, dst: extra[name]! });
      // Drawn only when mixing is on, so runs without it keep their random stream.
      let inputSource: Uint8Array | undefined;
      if (mix > 0 && m && this.backgrounds.length && rng.next() < mix) inputSource = withBackground(this.faces[face], m.mask, this.backgrounds[rng.int(this.backgrounds.length)]);
      augmentFace(this.faces[face], s, rng, augment, { input, target, maps, inputSource, at });
    });
    return {
      input: tf.tensor4d(input, [n, s, s, 3]),
      target: tf.tensor4d(target, [n, s, s, 3]),
      mask: mask && tf.tensor4d(mask, [n, s, s, 1]),
      mask3: mask && tf.tensor4d(threeChannels(mask), [n, s, s, 3]),
      weight: weight && tf.tensor4d(threeChannels(weight), [n, s, s, 3]),
      targets: names.length
        ? Object.fromEntries(Object.entries(this.targets).map(([t, from]) => [t, tf.tensor4d(interleave(from.map((name) => extra[name]!)), [n, s, s, from.length])]))
        : undefined,
    };
  }

  saveState(): SamplerState {
    return { order: [...this.state.order], position: this.state.position };
  }
}

export function disposeBatch(b: Batch): void {
  tf.dispose([b.input, b.target, ...[b.mask, b.mask3, b.weight].filter((t): t is tf.Tensor4D => t !== undefined), ...Object.values(b.targets ?? {})]);
}
