// bf16 mixed precision on the native backend: convolutions (forward and both gradients) in bf16
// agree with fp32 on cpu to bf16's precision, oneDNN reports bf16 implementations, and where bf16
// cannot run the reason is one line. Skips without the addon (fails instead in strict mode), and
// the bf16 runs skip on a CPU without avx512_bf16 or AMX.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { NATIVE_BACKEND } from '../../lib/engine/native/native-backend';
import { bf16Unavailable, currentPrecision, largestConvolution, PrecisionUnavailable, setPrecision } from '../../lib/engine/native/precision';
import { mulberry32 } from '../helpers/rng';
import { nativeSkip } from '../helpers/strict';
import { relativeError } from '../helpers/relative-error';

const skip = nativeSkip();
// Decided before the tests are declared (a test's skip is read then): the CPU's own features.
const bf16Skip: string | false = skip || (bf16Unavailable(NATIVE_BACKEND) ?? false);

before(async () => {
  if (skip) return;
  await initBackend({ force: 'native' });
});

/** Each value rounded to bf16 (to nearest, ties to even), as oneDNN rounds a bf16 pass's inputs. */
function roundBf16(a: Float32Array): Float32Array {
  const out = Float32Array.from(a), bits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) bits[i] = ((bits[i]! + 0x7fff + ((bits[i]! >>> 16) & 1)) & 0xffff0000) >>> 0;
  return out;
}

/**
 * y = conv(x, w) and the gradients of sum(y * r) with respect to x and w, as plain arrays.
 * `bf16Inputs`: x and r rounded to bf16 first (the filter gradient's operands).
 */
function convAndGradients(backend: string, seed: number, [n, h, c, k, oc, stride]: number[], bf16Inputs = false): Float32Array[] {
  tf.setBackend(backend);
  const rand = mulberry32(seed);
  const t = (shape: number[], round = false) => {
    const v = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1);
    return tf.tensor(round ? roundBf16(v) : v, shape);
  };
  return tf.tidy(() => {
    const x = t([n!, h!, h!, c!], bf16Inputs) as tf.Tensor4D, w = t([k!, k!, c!, oc!]) as tf.Tensor4D;
    const f = (xx: tf.Tensor4D, ww: tf.Tensor4D) => tf.conv2d(xx, ww, stride!, 'same');
    const y = f(x, w);
    const r = t(y.shape, bf16Inputs);
    const [dx, dw] = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(f(xx as tf.Tensor4D, ww as tf.Tensor4D), r)))([x, w]);
    return [y, dx!, dw!].map((v) => v.dataSync() as Float32Array);
  });
}

// [n, size, channels in, filter, channels out, stride]: shapes whose three passes all run in bf16.
const SHAPES = [[2, 32, 8, 5, 16, 2], [3, 9, 16, 3, 32, 1], [1, 32, 8, 5, 8, 2]];

test('bf16 convolutions (forward, input and filter gradients) agree with fp32 on cpu within 2% of the largest value', { skip: bf16Skip }, (t) => {
  try {
    for (const [i, shape] of SHAPES.entries()) {
      const ref = convAndGradients('cpu', i, shape);
      tf.setBackend('native');
      setPrecision('bf16');
      const bf = convAndGradients('native', i, shape);
      setPrecision('fp32');
      const fp = convAndGradients('native', i, shape);
      for (const [j, name] of ['y', 'dx', 'dw'].entries()) {
        const eb = relativeError(ref[j]!, bf[j]!), ef = relativeError(ref[j]!, fp[j]!);
        t.diagnostic(`shape ${shape.join('x')} ${name}: bf16 ${eb.toExponential(2)}, fp32 ${ef.toExponential(2)}`);
        assert.ok(eb < 0.02, `${name}: bf16 is ${eb} off`);
        // Not fp32 under another name: bf16 rounding shows, and fp32 is far tighter.
        assert.ok(eb > 1e-4 && ef < 1e-4, `${name}: bf16 ${eb}, fp32 ${ef}`);
      }
    }
  } finally {
    tf.setBackend('native');
    setPrecision('fp32');
  }
});

// The im2col + matmul path (native/src/conv-gemm.cc) in bf16 rounds the same inputs to bf16 as
// oneDNN's bf16 convolution and accumulates in fp32 too: the two differ only in summation order.
test('in bf16, the im2col + matmul path equals oneDNN\'s bf16 convolution in all three passes (to 1e-4), and both round', { skip: bf16Skip }, (t) => {
  try {
    for (const [i, shape] of [[3, 9, 16, 3, 32, 1], [2, 8, 64, 3, 64, 1], [2, 6, 12, 1, 40, 1]].entries()) {
      const ref = convAndGradients('cpu', 50 + i, shape);
      tf.setBackend('native');
      setPrecision('bf16');
      process.env.DEEPFAKE_CONV_GEMM = 'off';
      const conv = convAndGradients('native', 50 + i, shape);
      process.env.DEEPFAKE_CONV_GEMM = 'on';
      const gemm = convAndGradients('native', 50 + i, shape);
      for (const [j, name] of ['y', 'dx', 'dw'].entries()) {
        const e = relativeError(conv[j]!, gemm[j]!), r = relativeError(ref[j]!, gemm[j]!);
        t.diagnostic(`shape ${shape.join('x')} ${name}: matmul against oneDNN's convolution ${e.toExponential(2)}, against fp32 ${r.toExponential(2)}`);
        assert.ok(e < 1e-4, `${name}: ${e} off oneDNN's bf16 convolution`);
        assert.ok(r > 1e-4 && r < 0.02, `${name}: ${r} off fp32`);
      }
    }
  } finally {
    delete process.env.DEEPFAKE_CONV_GEMM;
    tf.setBackend('native');
    setPrecision('fp32');
  }
});

test('oneDNN runs bf16 implementations in bf16 and fp32 ones in fp32, and cacheInfo names them', { skip: bf16Skip }, () => {
  try {
    setPrecision('bf16');
    assert.equal(currentPrecision(), 'bf16');
    convAndGradients('native', 7, [2, 64, 8, 5, 24, 2]); // the largest convolution of this process so far
    const bf = largestConvolution()!;
    for (const impl of [bf.forward, bf.backwardData, bf.backwardWeights]) assert.match(impl, /bf16/, `bf16 run used ${impl}`);
    setPrecision('fp32');
    convAndGradients('native', 7, [2, 64, 8, 5, 25, 2]);
    const fp = largestConvolution()!;
    for (const impl of [fp.forward, fp.backwardData, fp.backwardWeights]) assert.doesNotMatch(impl, /bf16/, `fp32 run used ${impl}`);
  } finally {
    tf.setBackend('native');
    setPrecision('fp32');
  }
});

test('in bf16, single-channel filters (SSIM\'s window) stay fp32, an RGB layer rounds only its forward pass, and so does a small strided filter gradient; the filter gradient onto 3 channels rounds too', { skip: bf16Skip }, async () => {
  const { ssim } = await import('../../lib/metrics/pixel-metrics');
  const rand = mulberry32(9);
  const img = () => tf.tensor4d(Float32Array.from({ length: 2 * 24 * 24 * 3 }, () => rand()), [2, 24, 24, 3]);
  const [a, b] = [img(), img()];
  try {
    setPrecision('fp32');
    const want = ssim(a, b).dataSync().slice();
    const narrow = convAndGradients('native', 3, [2, 16, 3, 5, 4, 2]);
    setPrecision('bf16');
    assert.deepEqual(Array.from(ssim(a, b).dataSync()), Array.from(want));
    // 3 channels in, 4 out: the forward pass runs in bf16; the input gradient (a sum over 4
    // channels) and the filter gradient (blocks over 3) are faster in fp32 and stay there.
    const [y, dx, dw] = convAndGradients('native', 3, [2, 16, 3, 5, 4, 2]);
    const ey = relativeError(narrow[0]!, y!);
    assert.ok(ey > 1e-4 && ey < 0.02, `forward: bf16 ${ey} from fp32`);
    assert.deepEqual(Array.from(dx!), Array.from(narrow[1]!));
    assert.deepEqual(Array.from(dw!), Array.from(narrow[2]!));
    // A strided filter gradient over fewer than 16x16 output pixels is faster in fp32 too.
    setPrecision('fp32');
    const small = convAndGradients('native', 4, [2, 16, 8, 5, 16, 2]);
    setPrecision('bf16');
    const [ys, , dws] = convAndGradients('native', 4, [2, 16, 8, 5, 16, 2]);
    assert.ok(relativeError(small[0]!, ys!) > 1e-4, 'its forward pass runs in bf16');
    assert.deepEqual(Array.from(dws!), Array.from(small[2]!));
    // The filter gradient onto 3 channels from 16 (the decoders' last layer) keeps bf16 in a bf16
    // run, where fp32 computes it the other way round (native/src/conv.cc): it rounds like its forward pass.
    setPrecision('fp32');
    const last = convAndGradients('native', 5, [2, 12, 16, 5, 3, 1]);
    setPrecision('bf16');
    const [yl, , dwl] = convAndGradients('native', 5, [2, 12, 16, 5, 3, 1]);
    assert.ok(relativeError(last[0]!, yl!) > 1e-4, 'its forward pass runs in bf16');
    const ew = relativeError(last[2]!, dwl!);
    assert.ok(ew > 1e-4 && ew < 0.02, `its filter gradient: bf16 ${ew} from fp32`);
    // Computed the other way round in bf16 too, it is still the gradient of the rounded operands:
    // cpu's fp32 gradient of bf16-rounded x and dy, up to the order of the f32 sums.
    const rounded = convAndGradients('cpu', 5, [2, 12, 16, 5, 3, 1], true);
    const er = relativeError(rounded[2]!, dwl!);
    assert.ok(er < 1e-5, `its filter gradient: ${er} from the rounded operands' exact one`);
  } finally {
    tf.dispose([a, b]);
    setPrecision('fp32');
  }
});

test('bf16 where it cannot run: one line naming why (another backend; a CPU without avx512_bf16 or AMX)', { skip }, async () => {
  assert.match(bf16Unavailable('wasm') ?? '', /^bf16 needs the native backend \(running: wasm\)/);
  assert.match(bf16Unavailable('native', new Set(['avx2', 'avx512f'])) ?? '', /^bf16 needs a CPU with avx512_bf16 or AMX \(amx_bf16\); this one has neither$/);
  assert.equal(bf16Unavailable('native', new Set(['avx512f', 'amx_bf16'])), null);
  tf.setBackend('cpu');
  try {
    assert.throws(() => setPrecision('bf16'), (e: unknown) => e instanceof PrecisionUnavailable && /native backend \(running: cpu\)/.test(e.message));
  } finally {
    tf.setBackend('native');
  }
});
