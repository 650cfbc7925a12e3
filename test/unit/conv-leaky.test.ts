// ConvLeaky (a convolution with its LeakyReLU fused, and a hand-written gradient) computes what
// conv2d + leakyReLU compute, forward and backward, on every backend the project trains on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { loadAddon } from '../../lib/engine/native/addon';
import { ConvLeaky, convLeaky } from '../../lib/model/conv-leaky';
import { bf16Unavailable, setPrecision } from '../../lib/engine/native/precision';
import { nativeSkip } from '../helpers/strict';
import { relativeError } from '../helpers/relative-error';
import { mulberry32 } from '../helpers/rng';

const random = (rand: () => number, shape: number[]) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1), shape);

interface Result { y: Float32Array; grads: Float32Array[] }

/** Output, and the gradients of sum(y * r) for input, kernel and bias, of one layer form. */
async function run(fused: boolean, strides: number): Promise<Result> {
  const rand = mulberry32(5);
  const x = random(rand, [2, 9, 9, 3]);
  const kernel = random(rand, [5, 5, 3, 4]);
  const bias = random(rand, [4]);
  const input = tf.input({ shape: [9, 9, 3] });
  const out = fused
    ? (new ConvLeaky({ filters: 4, kernelSize: 5, strides, alpha: 0.1, name: 'c' }).apply(input) as tf.SymbolicTensor)
    : (tf.layers.leakyReLU({ alpha: 0.1 }).apply(tf.layers.conv2d({ filters: 4, kernelSize: 5, strides, padding: 'same', name: 'c' }).apply(input)) as tf.SymbolicTensor);
  const model = tf.model({ inputs: input, outputs: out });
  model.setWeights([kernel, bias]);
  const r = random(rand, out.shape.map((d) => d ?? 2));
  const xv = tf.variable(x);
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(model.apply(xv) as tf.Tensor, r)) as tf.Scalar, [xv, ...model.trainableWeights.map((w) => w.read() as tf.Variable)]);
  const result = { y: Float32Array.from(await (model.apply(x) as tf.Tensor).data()), grads: await Promise.all(Object.values(grads).map(async (g) => Float32Array.from(await g.data()))) };
  tf.dispose([value, xv, x, kernel, bias, r, ...Object.values(grads)]);
  model.dispose();
  return result;
}

function close(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, what);
  let worst = 0, scale = 1e-6;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  assert.ok(worst <= 1e-4 * scale, `${what}: max difference ${worst} against ${scale}`);
}

const backends = ['cpu', 'wasm', ...(loadAddon().ok ? ['native'] : [])] as const;
test('ConvLeaky equals conv2d + leakyReLU: output and the gradients of input, kernel and bias, strides 1 and 2', async () => {
  await initBackend({ force: loadAddon().ok ? 'native' : 'wasm' });
  for (const backend of backends) {
    await tf.setBackend(backend);
    for (const strides of [1, 2]) {
      const fused = await run(true, strides), plain = await run(false, strides);
      close(fused.y, plain.y, `${backend} s${strides} output`);
      assert.equal(fused.grads.length, 3);
      ['input', 'kernel', 'bias'].forEach((name, i) => close(fused.grads[i]!, plain.grads[i]!, `${backend} s${strides} ${name} gradient`));
    }
  }
});

test('ConvLeaky saves and loads as its own layer class, and refuses alpha <= 0', async () => {
  const input = tf.input({ shape: [8, 8, 3] });
  const model = tf.model({ inputs: input, outputs: new ConvLeaky({ filters: 2, kernelSize: 3, alpha: 0.2, name: 'c' }).apply(input) as tf.SymbolicTensor });
  const json = model.toJSON(null, false) as unknown as { config: { layers: Array<{ class_name: string; config: { alpha?: number } }> } };
  const layer = json.config.layers.find((l) => l.class_name === 'ConvLeaky');
  assert.equal(layer?.config.alpha, 0.2);
  assert.deepEqual(model.getWeights().map((w) => w.shape), [[3, 3, 3, 2], [2]]);
  const loaded = await tf.models.modelFromJSON({ modelTopology: json as unknown as tf.io.ModelJSON['modelTopology'] });
  const again = loaded.layers.find((l) => l instanceof ConvLeaky) as ConvLeaky | undefined;
  assert.equal(again?.alpha, 0.2);
  assert.equal(again?.name, 'c');
  assert.throws(() => new ConvLeaky({ filters: 2, kernelSize: 3, alpha: 0 }), /alpha must be > 0/);
  model.dispose();
  loaded.dispose();
});

/** The gradients of sum(convLeaky(x, w, b) * r) for x, w and b (or of conv2d + bias + leakyRelu: `plain`), and the kernels that ran. */
async function convLeakyGrads(backend: string, [n, h, c, k, oc, strides]: number[], plain = false): Promise<{ grads: Float32Array[]; kernels: string[] }> {
  await tf.setBackend(backend);
  const rand = mulberry32(11);
  const x = tf.variable(random(rand, [n!, h!, h!, c!])), w = tf.variable(random(rand, [k!, k!, c!, oc!]));
  const b = tf.variable(random(rand, [oc!]));
  const side = Math.ceil(h! / strides!);
  const r = random(rand, [n!, side, side, oc!]);
  let grads: Float32Array[] = [];
  const profile = await tf.profile(() => {
    const layer = () => plain
      ? tf.leakyRelu(tf.add(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, strides!, 'same'), b), 0.2)
      : convLeaky(x as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D, strides!, 0.2);
    const { value, grads: g } = tf.variableGrads(() => tf.sum(tf.mul(layer(), r)) as tf.Scalar, [x, w, b]);
    grads = [x, w, b].map((v) => g[v.name]!.dataSync().slice() as Float32Array);
    tf.dispose([value, ...Object.values(g)]);
  });
  tf.dispose([x, w, b, r]);
  return { grads, kernels: profile.kernels.map((kk) => kk.name) };
}

// In bf16 the forward pass rounds too, so where the pre-activation is near 0 its sign (and the
// slope, 1 or alpha) can differ from fp32's: the reference for bf16 is the same layer written as
// TensorFlow.js's own kernels on native in bf16, which round the same values the same way.
test('on native, ConvLeaky\'s gradient is one compiled call that equals cpu in fp32, and TensorFlow.js\'s own kernels in bf16', { skip: nativeSkip() }, async (t) => {
  await initBackend({ force: 'native' });
  const bf16 = bf16Unavailable() === null;
  // [n, size, channels in, filter, channels out, stride]: the layers' shapes, an RGB input layer,
  // a deep layer onto 4x4 (run as im2col + a matrix product), and a strided 1x1 filter (not
  // compiled: TensorFlow.js's kernels instead).
  for (const shape of [[2, 12, 16, 3, 32, 1], [2, 16, 16, 5, 24, 2], [3, 16, 3, 5, 8, 2], [2, 8, 128, 5, 64, 2], [2, 8, 8, 1, 4, 2]]) {
    const strided1x1 = shape[3] === 1 && shape[5]! > 1;
    const ref = await convLeakyGrads('cpu', shape);
    const fp = await convLeakyGrads('native', shape);
    assert.equal(fp.kernels.includes('DeepfakeConvLeakyBackward'), !strided1x1, `${shape}: ${fp.kernels.join(' ')}`);
    if (!strided1x1) for (const k of ['Conv2DBackpropInput', 'Conv2DBackpropFilter', 'DeepfakeLeakyReluGrad']) assert.ok(!fp.kernels.includes(k), `${shape}: ${k} ran`);
    ['x', 'w', 'b'].forEach((name, i) => {
      const e = relativeError(ref.grads[i]!, fp.grads[i]!);
      assert.ok(e < 1e-5, `${shape} d${name}: fp32 ${e} off`);
    });
    if (!bf16) continue;
    try {
      setPrecision('bf16');
      const bf = await convLeakyGrads('native', shape);
      const bfPlain = await convLeakyGrads('native', shape, true);
      const fromFp32 = ['x', 'w', 'b'].map((name, i) => {
        const e = relativeError(bfPlain.grads[i]!, bf.grads[i]!), d = relativeError(ref.grads[i]!, bf.grads[i]!);
        t.diagnostic(`${shape} d${name}: bf16 against its own kernels ${e.toExponential(2)}, against fp32 ${d.toExponential(2)}`);
        assert.ok(e < 1e-5, `${shape} d${name}: bf16 ${e} off its own kernels`);
        return d;
      });
      // It did round (not fp32 under another name), and by no more than a few flipped slopes
      // (the 128-channel layer sums 3,200 rounded products per output and measured up to 0.10).
      assert.ok(Math.max(...fromFp32) > 1e-4 && Math.max(...fromFp32) < 0.2, `${shape}: bf16 ${fromFp32} from fp32`);
    } finally {
      setPrecision('fp32');
    }
  }
});

// TensorFlow.js asks for each input's gradient separately (the layer is its own kernel): the
// encoder's first layer, whose input is the batch, must not compute an input gradient, and a
// layer with frozen weights under a trainable input must not leave its weight gradients behind.
test('ConvLeaky computes only the gradients asked for: none for an input that needs none, same weight gradients, nothing left behind', async () => {
  await initBackend({ force: loadAddon().ok ? 'native' : 'wasm' });
  for (const backend of backends) {
    await tf.setBackend(backend);
    for (const strides of [1, 2]) {
      const rand = mulberry32(21);
      const x = random(rand, [2, 10, 10, 3]) as tf.Tensor4D, xv = tf.variable(x);
      const w = tf.variable(random(rand, [5, 5, 3, 8])), b = tf.variable(random(rand, [8]));
      const r = random(rand, [2, 10 / strides, 10 / strides, 8]);
      const loss = (input: tf.Tensor4D) => () => tf.sum(tf.mul(convLeaky(input, w as tf.Tensor4D, b as tf.Tensor1D, strides, 0.2), r)) as tf.Scalar;
      const all = tf.variableGrads(loss(xv as tf.Tensor4D), [xv, w, b]);
      let weightsOnly = { value: tf.scalar(0), grads: {} as tf.NamedTensorMap };
      const profile = await tf.profile(() => {
        weightsOnly = tf.variableGrads(loss(x), [w, b]);
      });
      const names = profile.kernels.map((k) => k.name);
      if (backend === 'native') {
        const call = profile.kernels.find((k) => k.name === 'DeepfakeConvLeakyBackward');
        assert.equal(call?.outputShapes.length, 2, `${backend} s${strides}: the compiled gradient returned ${call?.outputShapes.length} tensors`);
      } else {
        assert.ok(!names.includes('Conv2DBackpropInput'), `${backend} s${strides}: an input gradient ran: ${names.join(' ')}`);
        assert.ok(names.includes('Conv2DBackpropFilter'), `${backend} s${strides}: ${names.join(' ')}`);
      }
      for (const v of [w, b]) close(weightsOnly.grads[v.name]!.dataSync() as Float32Array, all.grads[v.name]!.dataSync() as Float32Array, `${backend} s${strides} ${v.name}`);
      const dx = all.grads[xv.name]!.dataSync().slice() as Float32Array;
      tf.dispose([all.value, weightsOnly.value, ...Object.values(all.grads), ...Object.values(weightsOnly.grads)]);

      // Weights frozen, input trainable: dw and db are computed with dx, then freed.
      await new Promise((done) => setImmediate(done));
      const before = tf.memory().numTensors;
      const inputOnly = tf.variableGrads(loss(xv as tf.Tensor4D), [xv]);
      close(inputOnly.grads[xv.name]!.dataSync() as Float32Array, dx, `${backend} s${strides} dx`);
      tf.dispose([inputOnly.value, ...Object.values(inputOnly.grads)]);
      await new Promise((done) => setImmediate(done)); // the clean-up runs once the gradient computation has returned
      assert.equal(tf.memory().numTensors, before, `${backend} s${strides}: tensors left behind`);
      tf.dispose([x, xv, w, b, r]);
    }
  }
});
