// bf16 mixed precision for the native backend's convolutions: inputs (activations, filters,
// gradients) rounded to bfloat16 as oneDNN reads them, products accumulated and written in fp32,
// weights and Adam kept in fp32 by TensorFlow.js as always. A setting of the training session
// (saved in its checkpoint), applied process-wide here.
//
// Worth it only where the CPU multiplies bf16 faster than fp32: AMX, or avx512_bf16 on CPUs whose
// bf16 dot product beats two fp32 FMAs. On a Xeon with avx512_bf16 and no AMX: one vdpbf16ps per
// cycle against two vfmadd231ps, 142 against 141 GMAC/s per core, the same peak, and bf16 trained
// lite at 0.76x fp32. On a Xeon with AMX: 1.4x on lite and 1.9x on original (the deepest layers
// as AMX matrix products, native/src/conv-gemm.cc), and about 10% more steps on the default recipe
// with the same quality after 10 minutes (docs/engine.md, bf16 mixed precision). fp32 stays the default
// (the benchmark found no quality gain per minute, twice), and bench reports both.

import * as tf from '@tensorflow/tfjs';
import { cpuFlags } from './cpu';
import { activeAddon, NATIVE_BACKEND } from './native-backend';

export type Precision = 'fp32' | 'bf16';
export const PRECISIONS: readonly Precision[] = ['fp32', 'bf16'];

export function isPrecision(s: unknown): s is Precision {
  return s === 'fp32' || s === 'bf16';
}

/** Thrown when bf16 is asked for where it cannot run; the message is the one-line reason. */
export class PrecisionUnavailable extends Error {}

/** Why bf16 cannot run here, or null when it can. */
export function bf16Unavailable(backend = tf.getBackend(), flags: Set<string> | null = cpuFlags()): string | null {
  if (backend !== NATIVE_BACKEND) return `bf16 needs the native backend (running: ${backend}); only its convolutions have a bf16 path`;
  if (flags && !flags.has('avx512_bf16') && !flags.has('amx_bf16')) return 'bf16 needs a CPU with avx512_bf16 or AMX (amx_bf16); this one has neither';
  return null;
}

/** Run convolutions in `p` from now on; bf16 where unavailable throws PrecisionUnavailable. */
export function setPrecision(p: Precision): void {
  const a = activeAddon();
  if (p === 'bf16') {
    const why = bf16Unavailable();
    if (why) throw new PrecisionUnavailable(why);
  }
  a?.setPrecision(p);
}

export function currentPrecision(): Precision {
  return activeAddon()?.cacheInfo().precision ?? 'fp32';
}

/** oneDNN's implementation of each pass of the largest convolution run so far (native only). */
export function largestConvolution(): { macs: number; forward: string; backwardData: string; backwardWeights: string } | null {
  const info = activeAddon()?.cacheInfo();
  return info && info.largest.macs > 0 ? info.largest : null;
}
