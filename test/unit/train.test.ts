// The training loop in-process: loss falls, no tensor leaks, checkpoints resume exactly, and a
// half-written checkpoint is never taken for a whole one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { NO_AUGMENT } from '../../lib/train/augment';
import { latestCheckpoint, listCheckpoints } from '../../lib/train/checkpoint';
import { readHistory } from '../../lib/train/history';
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

test('resuming continues the step count, the history and the exact same run', async () => {
  const data = await syntheticFaces(6, 16);
  const straight = await open({ ...data, model: path.join(data.root, 'straight') });
  await runTraining(straight, { steps: 6, checkpointEvery: 100, previewEvery: 0, stream: null });
  const want = straight.history.map((e) => e.loss);
  straight.dispose();

  const first = await open(data);
  await runTraining(first, { steps: 3, checkpointEvery: 100, previewEvery: 0, stream: null });
  first.dispose();
  // A changed preset is ignored on resume: the checkpoint's model continues.
  const second = await open(data, { config: tinyConfig({ inputSize: 32 }) });
  assert.equal(second.step, 3);
  assert.ok(second.resumedFrom?.endsWith('step-00000003'));
  assert.equal(second.ae.config.inputSize, 16);
  await runTraining(second, { steps: 6, checkpointEvery: 100, previewEvery: 0, stream: null });
  second.dispose();
  const history = readHistory(data.model);
  assert.deepEqual(history.map((e) => e.step), [1, 2, 3, 4, 5, 6]);
  for (let i = 0; i < 6; i++)
    for (const id of ['a', 'b']) assert.ok(Math.abs(history[i].loss[id] - want[i][id]) < 1e-5, `step ${i + 1} ${id}: ${history[i].loss[id]} vs ${want[i][id]}`);
  assert.deepEqual(listCheckpoints(data.model).map((d) => path.basename(d)), ['step-00000006'], 'older checkpoints are removed');
});

test('history beyond the checkpoint is dropped on resume (those steps are trained again)', async () => {
  const data = await syntheticFaces(6, 16);
  const s = await open(data);
  await runTraining(s, { steps: 2, checkpointEvery: 100, previewEvery: 0, stream: null });
  await s.trainStep(); // step 3, never checkpointed: as if killed here
  s.dispose();
  const again = await open(data);
  assert.equal(again.step, 2);
  assert.deepEqual(readHistory(data.model).map((e) => e.step), [1, 2]);
  again.dispose();
});

test('an unfinished checkpoint folder is ignored and cleaned up', async () => {
  const data = await syntheticFaces(6, 16);
  const s = await open(data);
  await runTraining(s, { steps: 1, checkpointEvery: 100, previewEvery: 0, stream: null });
  s.dispose();
  const root = path.join(data.model, 'checkpoints');
  // What a kill leaves: a temp folder, and (for a writer without the rename) a folder without state.json.
  mkdirSync(path.join(root, '.tmp-step-00000002-999'), { recursive: true });
  mkdirSync(path.join(root, 'step-00000009', 'encoder'), { recursive: true });
  writeFileSync(path.join(root, 'step-00000009', 'encoder', 'model.json'), '{"trunc');
  assert.ok(latestCheckpoint(data.model)?.endsWith('step-00000001'));
  const again = await open(data);
  assert.equal(again.step, 1);
  again.dispose();
});
