// Batches for one identity: faces drawn epoch by epoch (each face once per pass, in a fresh random
// order) and augmented. The sampler's position is part of a checkpoint, so a resumed run continues
// the same sequence.

import * as tf from '@tensorflow/tfjs';
import { augmentFace, type AugmentOptions } from './augment';
import type { Rng } from './rng';

export interface Batch {
  /** Warped faces, the network's input. [n, s, s, 3] */
  input: tf.Tensor4D;
  /** Unwarped faces, what it must paint. [n, s, s, 3] */
  target: tf.Tensor4D;
  /** Face-region weights in the target's frame [n, s, s, 1], when the model has a mask channel. */
  mask?: tf.Tensor4D;
}

export interface SamplerState {
  order: number[];
  position: number;
}

export class FaceSampler {
  private state: SamplerState;

  constructor(private readonly faces: Uint8Array[], private readonly size: number, state?: SamplerState) {
    if (faces.length === 0) throw new Error('no faces to sample from');
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
  next(n: number, rng: Rng, augment: AugmentOptions, withMask: boolean): Batch {
    const s = this.size;
    const input = new Float32Array(n * s * s * 3);
    const target = new Float32Array(n * s * s * 3);
    const mask = withMask ? new Float32Array(n * s * s) : undefined;
    this.nextIndices(n, rng).forEach((face, at) => augmentFace(this.faces[face], s, rng, augment, { input, target, mask, at }));
    return {
      input: tf.tensor4d(input, [n, s, s, 3]),
      target: tf.tensor4d(target, [n, s, s, 3]),
      mask: mask && tf.tensor4d(mask, [n, s, s, 1]),
    };
  }

  saveState(): SamplerState {
    return { order: [...this.state.order], position: this.state.position };
  }
}

export function disposeBatch(b: Batch): void {
  tf.dispose([b.input, b.target, ...(b.mask ? [b.mask] : [])]);
}
