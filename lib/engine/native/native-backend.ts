// The `native` TensorFlow.js backend: the cpu backend's tensor storage (plain typed arrays) with
// the kernels that matter for training replaced by compiled ones (native/, on oneDNN + OpenMP).
//
// Why this design: a training step of `lite` is ~1,000 kernel calls, of which the convolutions
// took 85% of the time on wasm and the many small element-wise, reduction and optimizer kernels
// most of the rest. Keeping tensors in the typed arrays the cpu backend already manages lets the
// addon read and write them in place (no copies, no second memory manager, freed by the garbage
// collector like every other tensor), and every kernel we have not compiled still works: it falls
// back to the cpu backend's JavaScript implementation. The kernel set is tfjs 4.22's, which is
// frozen, so the names and attributes below will not move.

import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { NativeAddon } from './addon';
import { nativeKernels, type FusedAdamAttrs, type NativeKernel } from './kernels';
import type { ByteConverter } from '../../util/image';

export const NATIVE_BACKEND = 'native';

/** Freed output arrays kept for reuse, at most this many bytes. */
const POOL_LIMIT_BYTES = 512 * 1024 * 1024;
/** Arrays from this many floats up start on a 64-byte boundary. */
const ALIGN_FROM = 1024;

export class NativeBackend extends MathBackendCPU implements ByteConverter {
  // Output arrays are recycled: a training step allocates the same shapes every time, and fresh
  // zero-filled arrays cost page faults and garbage collections that took a third of a `lite` step.
  // An array is recycled only when the last tensor holding it is disposed, and only if this
  // backend allocated it; readSync hands out copies of such arrays, so nobody outside keeps one.
  // Holders are counted per ArrayBuffer, not per array: the cpu kernels' Slice returns a view
  // (subarray) of its input, and that view must keep the whole buffer from being reused.
  private readonly holders = new WeakMap<ArrayBufferLike, { count: number; array: Float32Array }>();
  private readonly pool = new Map<number, Float32Array[]>();
  private pooledBytes = 0;

  constructor(readonly addon: NativeAddon) {
    super();
    // The cpu backend prints "install tfjs-node to speed things up" on first use; not for us.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  /** The float32 values of a tensor, or null when it holds something else. */
  f32(t: TensorInfo): Float32Array | null {
    if (t.dtype !== 'float32') return null;
    const v = this.data.get(t.dataId).values;
    return v instanceof Float32Array ? v : null;
  }

  /** Like f32, for a tensor that may live on another backend: null unless this one holds it. */
  heldF32(t: TensorInfo): Float32Array | null {
    return this.data.has(t.dataId) ? this.f32(t) : null;
  }

  /** The bytes of a bool tensor. */
  bool(t: TensorInfo): Uint8Array | null {
    if (t.dtype !== 'bool') return null;
    const v = this.data.get(t.dataId).values;
    return v instanceof Uint8Array ? v : null;
  }

  /** An array for a kernel to fill completely: recycled when one of this length is free. */
  private alloc(n: number): Float32Array {
    const reused = this.pool.get(n)?.pop();
    if (reused) this.pooledBytes -= reused.byteLength;
    const a = reused ?? this.aligned(n);
    this.holders.set(a.buffer, { count: 0, array: a });
    return a;
  }

  /**
   * A new array starting on a 64-byte boundary. V8's buffers start 16 bytes off one, and oneDNN's
   * kernels then split every load across two cache lines (common.h's AlignedAllocator has the
   * numbers). Small arrays are not worth the 64 spare bytes.
   */
  private aligned(n: number): Float32Array {
    if (n < ALIGN_FROM) return new Float32Array(n);
    const buffer = new ArrayBuffer(n * 4 + 64);
    return new Float32Array(buffer, (64 - this.addon.addressMod64(buffer)) % 64, n);
  }

  /** A new float32 tensor and the array the kernel must fill (its old contents are garbage). */
  output(shape: number[]): { info: TensorInfo; values: Float32Array } {
    const values = this.alloc(tf.util.sizeFromShape(shape));
    return { info: this.makeTensorInfo(shape, 'float32', values), values };
  }

  /** A float32 tensor of bytes (a decoded photo's 8-bit values), converted by the addon into a recycled array. */
  fromBytes(bytes: Uint8Array, shape: number[]): TensorInfo {
    const out = this.output(shape);
    this.addon.bytesToF32(bytes, out.values);
    return out.info;
  }

  /** RGB bytes of a float tensor [h, w, 1|3] times k, from the tensor's own array (no read copy); null when it is not held here. */
  toBytes(t: TensorInfo, k: number, channels: number): Uint8Array | null {
    const held = this.heldF32(t);
    if (!held) return null;
    const [height, width] = t.shape;
    const data = new Uint8Array(width! * height! * 3);
    this.addon.f32ToBytes(held, k, channels, data);
    return data;
  }

  /** Like output, for int32 tensors (face-api slices and joins int32 images); never recycled. */
  outputInt32(shape: number[]): { info: TensorInfo; values: Int32Array } {
    const values = new Int32Array(tf.util.sizeFromShape(shape));
    return { info: this.makeTensorInfo(shape, 'int32', values), values };
  }

  /**
   * The values of a float32 or int32 tensor for copyBox, or null. The cpu backend's Cast from int32
   * to float32 keeps the Int32Array, so a float32 tensor may hand back one; copyBox converts it.
   */
  words(t: TensorInfo): Float32Array | Int32Array | null {
    if (t.dtype !== 'float32' && t.dtype !== 'int32') return null;
    const v = this.data.get(t.dataId).values;
    if (v instanceof Int32Array) return v;
    return t.dtype === 'float32' && v instanceof Float32Array ? v : null;
  }

  outputBool(shape: number[]): { info: TensorInfo; values: Uint8Array } {
    const values = new Uint8Array(tf.util.sizeFromShape(shape));
    return { info: this.makeTensorInfo(shape, 'bool', values), values };
  }

  override write(values: Parameters<MathBackendCPU['write']>[0], shape: number[], dtype: tf.DataType): ReturnType<MathBackendCPU['write']> {
    if (ArrayBuffer.isView(values)) {
      const h = this.holders.get(values.buffer);
      if (h) h.count++;
    }
    return super.write(values, shape, dtype);
  }

  override disposeData(dataId: object, force = false): boolean {
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const released = super.disposeData(dataId, force);
    if (ArrayBuffer.isView(values) && !this.data.has(dataId)) {
      const h = this.holders.get(values.buffer);
      if (h?.count === 1) this.recycle(h.array);
      else if (h) h.count--;
    }
    return released;
  }

  private recycle(a: Float32Array): void {
    this.holders.delete(a.buffer);
    if (this.pooledBytes + a.byteLength > POOL_LIMIT_BYTES) return; // let the garbage collector have it
    const list = this.pool.get(a.length) ?? [];
    list.push(a);
    this.pool.set(a.length, list);
    this.pooledBytes += a.byteLength;
  }

  /** Copies of recycled (or updated in place) arrays: what dataSync returns must not change later. */
  override readSync(dataId: object): ReturnType<MathBackendCPU['readSync']> {
    const v = super.readSync(dataId);
    return v instanceof Float32Array && this.holders.has(v.buffer) ? v.slice() : v;
  }

  /** Bytes held for reuse, and a way to give them back (tests, and between notebook runs). */
  poolBytes(): number {
    return this.pooledBytes;
  }

  releasePool(): void {
    this.pool.clear();
    this.pooledBytes = 0;
  }

  override dispose(): void {
    this.releasePool();
    super.dispose();
  }

  /**
   * Adam on a variable in place, when nothing else can see its arrays: p, m and v each held by
   * exactly one tensor and allocated here. Returns false otherwise (the caller then runs the
   * out-of-place kernel, whose outputs qualify next time).
   */
  adamInPlace(p: TensorInfo, m: TensorInfo, v: TensorInfo, g: TensorInfo, a: FusedAdamAttrs): boolean {
    const arrays: Float32Array[] = [];
    for (const t of [p, m, v]) {
      const d = this.data.get(t.dataId);
      const values = this.f32(t);
      if (!values || d.refCount !== 1 || this.holders.get(values.buffer)?.count !== 1) return false;
      arrays.push(values);
    }
    const gv = this.f32(g);
    if (!gv) return false;
    const [pv, mv, vv] = arrays as [Float32Array, Float32Array, Float32Array];
    this.addon.adam(pv, mv, vv, gv, a.learningRate, a.beta1, a.beta2, a.epsilon, a.c1, a.c2, pv, mv, vv);
    return true;
  }
}

/** The addon, when the current backend is native (code with a compiled twin of a JavaScript loop asks). */
export function activeAddon(): NativeAddon | null {
  const b = tf.getBackend() === NATIVE_BACKEND ? tf.backend() : null;
  return b instanceof NativeBackend ? b.addon : null;
}

/** How often each kernel fell back to JavaScript, and why (shown by `bench --profile`). */
export const fallbacks = new Map<string, number>();

function withFallback(name: string, own: NativeKernel, cpu: KernelFunc): KernelFunc {
  return (args) => {
    const out = own(args as Parameters<NativeKernel>[0]);
    if (out) return out;
    fallbacks.set(name, (fallbacks.get(name) ?? 0) + 1);
    return cpu(args);
  };
}

/** Register the backend and its kernels once per process. */
export function registerNativeBackend(addon: NativeAddon): void {
  if (tf.findBackendFactory(NATIVE_BACKEND)) return;
  // Priority below cpu's: never picked implicitly, only by lib/engine/backend.ts's choice.
  tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(addon), 0);
  const own = nativeKernels(addon);
  // DEEPFAKE_NATIVE_OFF=Conv2D,Sum runs those kernels in JavaScript instead (to corner a bug).
  for (const name of (process.env.DEEPFAKE_NATIVE_OFF ?? '').split(',')) if (name.trim()) delete own[name.trim()];
  const cpuKernels = tf.getKernelsForBackend('cpu');
  for (const k of cpuKernels) {
    const kernel = own[k.kernelName];
    const config: KernelConfig = {
      kernelName: k.kernelName,
      backendName: NATIVE_BACKEND,
      kernelFunc: kernel ? withFallback(k.kernelName, kernel, k.kernelFunc) : k.kernelFunc,
    };
    if (k.setupFunc) config.setupFunc = k.setupFunc;
    if (k.disposeFunc) config.disposeFunc = k.disposeFunc;
    tf.registerKernel(config);
  }
  // Kernels the cpu backend does not have (the fused Adam update).
  const cpuNames = new Set(cpuKernels.map((k) => k.kernelName));
  for (const [name, kernel] of Object.entries(own)) {
    if (cpuNames.has(name)) continue;
    tf.registerKernel({
      kernelName: name,
      backendName: NATIVE_BACKEND,
      kernelFunc: (args) => {
        const out = kernel(args as Parameters<NativeKernel>[0]);
        if (!out) throw new Error(`${name}: unsupported inputs on the native backend`);
        return out;
      },
    });
  }
}
