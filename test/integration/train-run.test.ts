// The training loop in-process over tens of steps (split from test/unit/train.test.ts, which keeps
// resuming and checkpoints): the loss falls, and no tensor leaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { NO_AUGMENT } from '../../lib/train/augment';
import { runTraining } from '../../lib/train/run';
import { TrainingSession, type OpenOptions } from '../../lib/train/session';
import { syntheticFaces, tinyConfig } from '../train-fixtures';

const FAST = { adam: { learningRate: 2e-3, beta1: 0.5, beta2: 0.999 }, batchSize: 4, holdout: 0.2 };

async function open(data: { a: string; b: string; model: string }, extra: Partial<OpenOptions> = {}): Promise<TrainingSession> {
  await initBackend({ force: 'wasm' });
  return TrainingSession.open({ modelDir: data.model, data: { a: data.a, b: data.b }, config: tinyConfig(), settings: FAST, ...extra });
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

test('a short run on synthetic faces: the loss falls', async () => {
  const data = await syntheticFaces(10, 16);
  const s = await open(data, { settings: { ...FAST, augment: NO_AUGMENT } });
  const r = await runTraining(s, { steps: 30, checkpointEvery: 100, previewEvery: 0, stream: null });
  const losses = s.history.map((e) => (e.loss.a + e.loss.b) / 2);
  assert.ok(mean(losses.slice(-5)) < 0.7 * mean(losses.slice(0, 5)), `loss ${mean(losses.slice(0, 5)).toFixed(4)} -> ${mean(losses.slice(-5)).toFixed(4)}`);
  assert.equal(r.steps, 30);
  assert.ok(r.preview?.endsWith('.png'));
  assert.ok(r.facesPerSecond > 0 && r.prepMsPerStep >= 0);
  s.dispose();
});

test('no tensor leaks: the tensor count after step 5 equals the count after step 50', async () => {
  const data = await syntheticFaces(6, 16);
  const s = await open(data, { config: tinyConfig({ mask: true }), settings: { ...FAST, loss: { ssimWeight: 0.5, maskWeighted: true } } });
  const counts: number[] = [];
  for (let i = 1; i <= 50; i++) {
    await s.trainStep();
    counts[i] = tf.memory().numTensors;
  }
  assert.equal(counts[50], counts[5]);
  // Checkpoints and previews do not leak either.
  await s.saveCheckpoint();
  await s.writePreview();
  assert.equal(tf.memory().numTensors, counts[50]);
  s.dispose();
});
