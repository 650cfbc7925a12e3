// ConvLeaky (a convolution with its LeakyReLU fused, and a hand-written gradient) computes what
// conv2d + leakyReLU compute, forward and backward, on every backend the project trains on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { loadAddon } from '../lib/native/addon';
import { ConvLeaky } from '../lib/model/conv-leaky';
import { mulberry32 } from './helpers/rng';

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
