// Decoder kinds are plugins (lib/model/decoders/): a third kind, written here and registered in one
// call, trains through the ordinary session, its own face maps and loss term reach the step, it is
// saved and resumed from a checkpoint, and the swap draws it its own way. Also: a model saved with
// `warp: true`, before kinds had names, is a warping model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { decoderUpscales } from '../../lib/model/blocks';
import { buildAutoencoder, disposeAutoencoder, swapDecode } from '../../lib/model/builder';
import { decoderKindName } from '../../lib/model/config';
import type { DecoderKind } from '../../lib/model/decoders/decoder-kind';
import { decoderKindOf, decoderKinds, registerDecoderKind, validateModelConfig } from '../../lib/model/decoders/registry';
import { loadSwapModel } from '../../lib/swap/model';
import { runTraining } from '../../lib/train/run';
import { TrainingSession } from '../../lib/train/session';
import { syntheticFaces, tinyConfig } from '../train-fixtures';

const FAST = { adam: { learningRate: 2e-3, beta1: 0.5, beta2: 0.999 }, batchSize: 4, holdout: 0.2 };

/** What the toy kind saw, to prove each part of the interface was used. */
const seen = { prepared: [] as string[], mapsOf: [] as number[], terms: 0, swaps: 0 };

/**
 * A decoder that paints with a 1x1 convolution, keeps a per-face map of each face's brightness, and
 * pulls its output's mean towards it; a swap is drawn at half contrast.
 */
const toy: DecoderKind = {
  name: 'toy',
  summary: 'paints with a 1x1 convolution (a test kind)',
  validate: (c) => (c.mask ? ['the toy decoder has no mask channel'] : []),
  build(c, code, init) {
    const sides = decoderUpscales(c, code, init);
    return tf.layers.conv2d({ filters: 3, kernelSize: 1, activation: 'sigmoid', kernelInitializer: init(), name: 'toy_out' }).apply(sides.at(-1)!) as tf.SymbolicTensor;
  },
  async prepare(_decoder, faces) {
    seen.prepared.push(faces.id);
  },
  async faceMaps(_decoder, faces, masks) {
    seen.mapsOf.push(faces.set.pixels.length);
    return faces.set.pixels.map((p, i) => {
      const mean = p.reduce((s, v) => s + v, 0) / p.length / 255;
      return { bright: new Float32Array(masks[i]!.length).fill(mean) };
    });
  },
  batchTargets: { bright: ['bright'] },
  lossTerm({ decoder, code, targets }) {
    if (!targets.bright) return null;
    seen.terms++;
    const output = decoder.apply(code, { training: true }) as tf.Tensor4D;
    return { output, loss: output.mean(3, true).sub(targets.bright).abs().mean().mul(0.1) as tf.Scalar };
  },
  swap(decoder, codes) {
    seen.swaps++;
    return tf.tidy(() => (decoder.apply(codes, { training: false }) as tf.Tensor4D).sub(0.5).mul(0.5).add(0.5));
  },
};

test('a decoder kind written in one file trains, checkpoints, resumes and swaps through the ordinary paths', async () => {
  await initBackend({ force: 'wasm' });
  registerDecoderKind(toy);
  assert.ok(decoderKinds().some((k) => k.name === 'toy'));
  assert.throws(() => registerDecoderKind({ ...toy }), /already registered/);
  assert.throws(() => validateModelConfig(tinyConfig({ inputSize: 16, decoder: 'toy', mask: true })), /no mask channel/);
  assert.throws(() => validateModelConfig(tinyConfig({ inputSize: 16, decoder: 'nonesuch' })), /decoder must be one of painting, warping, toy/);

  const data = await syntheticFaces(8, 16);
  const config = tinyConfig({ inputSize: 16, decoder: 'toy' });
  const session = await TrainingSession.open({ modelDir: data.model, data: { a: data.a, b: data.b }, config, settings: FAST });
  assert.deepEqual(seen.prepared, ['a', 'b'], 'a new model prepares each decoder');
  assert.equal(seen.mapsOf.length, 2, 'and draws the maps of each person');
  assert.ok(session.ae.decoders.a!.layers.some((l) => l.name === 'toy_out'), "the decoder is the kind's");
  const r = await runTraining(session, { steps: 4, stream: null });
  assert.equal(seen.terms, 8, 'its loss term in every step of each person');
  assert.ok(r.checkpoint && Number.isFinite(r.loss.a!));
  session.dispose();

  // Resumed: the same kind from the checkpoint's config, not prepared again.
  const again = await TrainingSession.open({ modelDir: data.model, data: { a: data.a, b: data.b }, settings: FAST });
  assert.equal(decoderKindOf(again.ae.config).name, 'toy');
  assert.deepEqual(seen.prepared, ['a', 'b'], 'a resumed model is not prepared again');
  await runTraining(again, { steps: 6, stream: null });
  assert.equal(again.step, 6);
  again.dispose();

  // The swap path: a model loaded from the folder draws swaps the kind's way.
  const model = await loadSwapModel(data.model, { log: () => undefined });
  const faces = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
  const before = seen.swaps;
  const swapped = model.decode(faces, 'b');
  assert.equal(seen.swaps, before + 1);
  const [lo, hi] = [swapped.min().dataSync()[0]!, swapped.max().dataSync()[0]!];
  assert.ok(lo >= 0.25 && hi <= 0.75, `half contrast: values from ${lo} to ${hi}`);
  assert.equal(model.decodeDetailed, undefined, 'no larger render: the kind has none');
  tf.dispose([faces, swapped]);
  model.dispose();
});

test('a model saved before decoder kinds had names (warp: true) is a warping model; none at all is a painting one', async () => {
  await initBackend({ force: 'wasm' });
  assert.equal(decoderKindName(tinyConfig({ warp: true })), 'warping');
  assert.equal(decoderKindName(tinyConfig()), 'painting');
  const legacy = buildAutoencoder(tinyConfig({ warp: true }), { seed: 4 });
  const named = buildAutoencoder(tinyConfig({ decoder: 'warping' }), { seed: 4 });
  const layers = (ae: typeof legacy) => ae.decoders.a!.layers.map((l) => `${l.name} ${JSON.stringify(l.getWeights().map((w) => w.shape))}`);
  assert.deepEqual(layers(legacy), layers(named));
  const x = tf.randomUniform([1, 16, 16, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const [p, q] = [swapDecode(legacy, x, 'b'), swapDecode(named, x, 'b')];
  assert.deepEqual(await p.data(), await q.data());
  tf.dispose([x, p, q]);
  disposeAutoencoder(legacy);
  disposeAutoencoder(named);
});
