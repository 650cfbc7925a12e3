// Conv2DBackpropFilter for the wasm backend, which ships without it.
//
// Training any convolutional layer needs dL/dW. For a 2D convolution (NHWC, dilation 1):
//
//   dW[i, j, ci, co] = sum over n, ho, wo of  xpad[n, ho*sh + i, wo*sw + j, ci] * dy[n, ho, wo, co]
//
// Each filter tap (i, j) reads a strided slice of the padded input with the same spatial size as
// dy. Concatenating the kh*kw slices along channels gives the im2col matrix P [M, kh*kw*Cin]
// (M = N*Ho*Wo) whose column order is exactly the flattened filter layout, so dW = P^T dy.
//
// The product is computed as (dy^T P)^T: wasm's BatchMatMul is ~10x slower with transposeA
// (measured: 154 ms vs 16 ms for a 4096x800x64 product), and dy and dW are much smaller to
// transpose than P.
//
// Everything runs through kernels the wasm backend already has (PadV2, StridedSlice, Concat,
// Reshape, Transpose, BatchMatMul), called directly as kernel functions so the engine sees one
// kernel; every intermediate is released with backend.disposeData (ref-counted, so reshapes that
// share a buffer are safe).

import * as tf from '@tensorflow/tfjs';
import type { Conv2DBackpropFilterAttrs, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

type Inputs = Record<string, TensorInfo> | TensorInfo[];
type WasmKernelBackend = tf.KernelBackend & { disposeData(dataId: object, force?: boolean): boolean };

/** Runs kernels of one backend by name and remembers their outputs so they can be freed. */
class KernelRunner {
  private readonly temps: TensorInfo[] = [];
  constructor(private readonly backend: WasmKernelBackend, private readonly backendName: string) {}

  run(kernelName: string, inputs: Inputs, attrs: object): TensorInfo {
    const kernel = tf.getKernel(kernelName, this.backendName);
    if (!kernel) throw new Error(`kernel ${kernelName} missing on ${this.backendName}`);
    // KernelFunc's inputs type is a NamedTensorInfoMap; Concat takes an array under numeric keys.
    const out = kernel.kernelFunc({
      inputs: inputs as unknown as tf.NamedTensorInfoMap,
      backend: this.backend,
      attrs: attrs as unknown as NamedAttrMap,
    }) as TensorInfo;
    this.temps.push(out);
    return out;
  }

  /** Free every intermediate except `keep`, which becomes the kernel's output. */
  releaseAllBut(keep: TensorInfo): void {
    for (const t of this.temps) if (t !== keep) this.backend.disposeData(t.dataId);
  }
}

export const conv2DBackpropFilterWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
  if (dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter (wasm): only NHWC is supported, got ${dataFormat}`);

  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const { batchSize, filterHeight: kh, filterWidth: kw, inChannels: cin, outChannels: cout } = info;
  const { strideHeight: sh, strideWidth: sw, outHeight: ho, outWidth: wo, padInfo } = info;
  const k = new KernelRunner(backend as WasmKernelBackend, 'wasm');

  // Zero-pad once; 'valid' and pad 0 skip the copy.
  const { top, bottom, left, right } = padInfo;
  const xp =
    top || bottom || left || right
      ? k.run('PadV2', { x }, { paddings: [[0, 0], [top, bottom], [left, right], [0, 0]], constantValue: 0 })
      : x;

  // One strided slice per tap, each [N, Ho, Wo, Cin], in filter (i, j) order.
  const taps: TensorInfo[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      taps.push(
        k.run('StridedSlice', { x: xp }, {
          begin: [0, i, j, 0],
          end: [batchSize, i + (ho - 1) * sh + 1, j + (wo - 1) * sw + 1, cin],
          strides: [1, sh, sw, 1],
          beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0,
        }),
      );
    }
  }
  const m = batchSize * ho * wo;
  const cols = taps.length === 1 ? taps[0] : k.run('Concat', taps, { axis: 3 });
  const p = k.run('Reshape', { x: cols }, { shape: [1, m, kh * kw * cin] });
  const dy3 = k.run('Reshape', { x: dy }, { shape: [1, m, cout] });
  const dyT = k.run('Transpose', { x: dy3 }, { perm: [0, 2, 1] });
  const dwT = k.run('BatchMatMul', { a: dyT, b: p }, { transposeA: false, transposeB: false }); // [1, Cout, K]
  const dw = k.run('Transpose', { x: dwT }, { perm: [0, 2, 1] }); // [1, K, Cout]
  const out = k.run('Reshape', { x: dw }, { shape: [kh, kw, cin, cout] });
  k.releaseAllBut(out);
  return out;
};

export const conv2DBackpropFilterWasmConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilterWasm,
};
