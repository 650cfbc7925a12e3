// Model builders: the structure and parameter counts of each preset, the pixel-shuffle layer, and
// save/load through the filesystem IO handler giving identical outputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { autoencode, buildAutoencoder, type Autoencoder, countParams, disposeAutoencoder, encodedShape } from '../../lib/model/builder';
import { presetConfig, validateConfig, type PresetName } from '../../lib/model/config';
import { loadLayersModel, saveLayersModel } from '../../lib/model/fs-io';
import { PixelShuffle } from '../../lib/model/pixel-shuffle';
import { loadAutoencoder, saveAutoencoder } from '../../lib/model/store';
import { tinyConfig } from '../train-fixtures';

// Counts with biases and sub-pixel upscales of 4x filters (the brief's hand count and a PyTorch
// rendering of the same structure agree on the first two).
const EXPECTED: Record<PresetName, { encoder: number; decoder: number; total: number; size: number }> = {
  original: { encoder: 69_662_976, decoder: 6_199_747, total: 82_062_470, size: 64 },
  lite: { encoder: 4_359_744, decoder: 388_723, total: 5_137_190, size: 64 },
  hq128: { encoder: 77_018_880, decoder: 6_199_747, total: 89_418_374, size: 128 },
  tiny: { encoder: 174_864, decoder: 24_607, total: 224_078, size: 32 },
};

/** The layer structure of the first public deepfake code (each conv + LeakyReLU pair fused as one ConvLeaky layer). */
function checkOriginalStructure(ae: Autoencoder): void {
  const summary = (m: tf.LayersModel) => m.layers.map((l) => `${l.getClassName()}:${JSON.stringify(l.outputShape)}`);
  assert.deepEqual(summary(ae.encoder), [
    'InputLayer:[null,64,64,3]',
    'ConvLeaky:[null,32,32,128]',
    'ConvLeaky:[null,16,16,256]',
    'ConvLeaky:[null,8,8,512]',
    'ConvLeaky:[null,4,4,1024]',
    'Flatten:[null,16384]', 'Dense:[null,1024]', 'Dense:[null,16384]', 'Reshape:[null,4,4,1024]',
    'ConvLeaky:[null,4,4,2048]', 'PixelShuffle:[null,8,8,512]',
  ]);
  assert.deepEqual(summary(ae.decoders.a), [
    'InputLayer:[null,8,8,512]',
    'ConvLeaky:[null,8,8,1024]', 'PixelShuffle:[null,16,16,256]',
    'ConvLeaky:[null,16,16,512]', 'PixelShuffle:[null,32,32,128]',
    'ConvLeaky:[null,32,32,256]', 'PixelShuffle:[null,64,64,64]',
    'Conv2D:[null,64,64,3]',
  ]);
  const conv1 = ae.encoder.getLayer('enc_conv1').getConfig();
  assert.deepEqual([conv1.kernelSize, conv1.strides, conv1.alpha], [5, 2, 0.1]);
  assert.equal(ae.decoders.a.getLayer('dec_out').getConfig().activation, 'sigmoid');
}

for (const name of Object.keys(EXPECTED) as PresetName[]) {
  test(`preset ${name}: shapes and parameter counts`, async () => {
    await initBackend({ force: 'wasm' });
    const before = tf.memory().numTensors;
    const ae = buildAutoencoder(presetConfig(name));
    const e = EXPECTED[name];
    const counts = countParams(ae);
    assert.equal(counts.encoder, e.encoder);
    assert.deepEqual(counts.decoders, { a: e.decoder, b: e.decoder });
    assert.equal(counts.total, e.total);
    assert.deepEqual(ae.encoder.inputs[0].shape, [null, e.size, e.size, 3]);
    assert.deepEqual(ae.encoder.outputs[0].shape, [null, ...encodedShape(ae.config)]);
    assert.deepEqual(ae.decoders.b.outputs[0].shape, [null, e.size, e.size, 3]);
    if (name === 'original') checkOriginalStructure(ae);
    disposeAutoencoder(ae);
    assert.equal(tf.memory().numTensors, before, 'disposing frees every weight');
  });
}

test('mask channel and N identities change only the decoders', async () => {
  await initBackend({ force: 'wasm' });
  const ae = buildAutoencoder(tinyConfig({ mask: true, identities: ['a', 'b', 'c'] }));
  assert.deepEqual(Object.keys(ae.decoders), ['a', 'b', 'c']);
  const y = autoencode(ae, tf.zeros([2, 16, 16, 3]) as tf.Tensor4D, 'c');
  assert.deepEqual(y.shape, [2, 16, 16, 4]);
  const values = await y.data();
  assert.ok(values.every((v) => v > 0 && v < 1), 'sigmoid outputs, mask included');
  y.dispose();
  disposeAutoencoder(ae);
});

test('invalid configs are refused with the reason', () => {
  assert.throws(() => validateConfig(presetConfig('lite', { inputSize: 40 })), /multiple of 2\^4/);
  assert.throws(() => validateConfig(presetConfig('lite', { decoderWidths: [64, 32] })), /need 3 decoder upscales/);
  assert.throws(() => validateConfig(presetConfig('lite', { identities: ['a', 'a'] })), /distinct/);
});

test('PixelShuffle is depth-to-space and survives serialisation', async () => {
  await initBackend({ force: 'wasm' });
  const x = tf.randomNormal([1, 3, 3, 8]) as tf.Tensor4D;
  const layer = new PixelShuffle({ blockSize: 2 });
  const y = layer.apply(x) as tf.Tensor;
  assert.deepEqual(y.shape, [1, 6, 6, 2]);
  assert.deepEqual(await y.data(), await tf.depthToSpace(x, 2).data());
  const input = tf.input({ shape: [3, 3, 8] });
  const model = tf.model({ inputs: input, outputs: new PixelShuffle().apply(input) as tf.SymbolicTensor });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dfl-model-'));
  await saveLayersModel(model, dir);
  const loaded = await loadLayersModel(dir);
  assert.equal(loaded.layers[1].getClassName(), 'PixelShuffle');
  assert.deepEqual(await (loaded.predict(x) as tf.Tensor).data(), await y.data());
  tf.dispose([x, y]);
});

test('save and load an autoencoder: identical outputs on every decoder', async () => {
  await initBackend({ force: 'wasm' });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dfl-model-'));
  const ae = buildAutoencoder(tinyConfig({ mask: true }), { seed: 3 });
  await saveAutoencoder(ae, dir);
  const back = await loadAutoencoder(dir);
  assert.deepEqual(back.config, ae.config);
  const x = tf.randomUniform([3, 16, 16, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
  for (const id of ['a', 'b']) {
    const want = autoencode(ae, x, id), got = autoencode(back, x, id);
    assert.deepEqual(await got.data(), await want.data(), `decoder ${id}`);
    tf.dispose([want, got]);
  }
  x.dispose();
  disposeAutoencoder(ae);
  disposeAutoencoder(back);
});

test('a truncated weights file is refused, not loaded as garbage', async () => {
  await initBackend({ force: 'wasm' });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dfl-model-'));
  const ae = buildAutoencoder(tinyConfig());
  await saveLayersModel(ae.encoder, dir);
  const bin = path.join(dir, 'weights.bin');
  writeFileSync(bin, readFileSync(bin).subarray(0, 1000));
  await assert.rejects(loadLayersModel(dir), /weights\.bin: holds 1000 bytes/);
  disposeAutoencoder(ae);
});

test('the same seed builds the same weights', async () => {
  await initBackend({ force: 'wasm' });
  const [m1, m2] = [buildAutoencoder(tinyConfig(), { seed: 9 }), buildAutoencoder(tinyConfig(), { seed: 9 })];
  const w1 = m1.decoders.b.getWeights(), w2 = m2.decoders.b.getWeights();
  for (let i = 0; i < w1.length; i++) assert.deepEqual(await w1[i].data(), await w2[i].data());
  disposeAutoencoder(m1);
  disposeAutoencoder(m2);
});
