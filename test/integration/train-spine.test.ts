// The one training loop (lib/train/run.ts) with its budgets and callbacks, on faces in a folder and
// on faces held in memory, and `train --minutes` through the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'fs';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { runTraining } from '../../lib/train/run';
import { TrainingSession } from '../../lib/train/session';
import { runCli } from '../helpers/cli';
import { syntheticFaces, tinyConfig } from '../train-fixtures';

const FAST = { adam: { learningRate: 2e-3, beta1: 0.5, beta2: 0.999 }, batchSize: 4, holdout: 0.2 };

/** 16 px blobs in memory: two people of different colours. */
function blobs(n: number, colour: number): Uint8Array[] {
  return Array.from({ length: n }, (_, k) => Uint8Array.from({ length: 16 * 16 * 3 }, (_, i) => (i % 3 === 0 ? colour : 40 + ((i + k * 7) % 50))));
}

test('a budget in seconds stops the loop early, and `every` is called every N steps and after the last', async () => {
  await initBackend({ force: 'wasm' });
  const data = await syntheticFaces(8, 16);
  const s = await TrainingSession.open({ modelDir: data.model, data: { a: data.a, b: data.b }, config: tinyConfig(), settings: FAST });
  const calls: number[] = [];
  const r = await runTraining(s, { steps: 7, stream: null, every: { steps: 3, call: (x) => void calls.push(x.step) } });
  assert.equal(r.steps, 7);
  assert.deepEqual(calls, [3, 6, 7]);
  const timed = await runTraining(s, { seconds: 0.3, stream: null });
  assert.ok(timed.trained >= 1 && timed.seconds >= 0.3, `${timed.trained} steps in ${timed.seconds} s`);
  assert.ok(timed.seconds < 0.3 + 5 * s.history.at(-1)!.stepMs / 1000, 'stops within a step of the budget');
  assert.ok(timed.checkpoint && existsSync(timed.checkpoint), 'a session with a folder saves at the end');
  const none = await runTraining(s, { seconds: 0, stream: null });
  assert.equal(none.trained, 0, 'a spent budget trains nothing');
  s.dispose();
});

test('a session held in memory trains through the same loop, writes nothing, leaks no tensor, and cannot save', async () => {
  await initBackend({ force: 'wasm' });
  const s = await TrainingSession.inMemory({ faces: { a: blobs(6, 220), b: blobs(6, 60) }, config: tinyConfig(), settings: { batchSize: 4, adam: { learningRate: 2e-3 } } });
  assert.equal(s.persistent, false);
  await runTraining(s, { steps: 2, stream: null });
  const tensors = tf.memory().numTensors;
  const r = await runTraining(s, { steps: 12, stream: null });
  assert.equal(r.trained, 10);
  assert.equal(r.checkpoint, null, 'nothing saved');
  assert.ok(Number.isFinite(r.loss.a!) && Number.isFinite(r.loss.b!));
  assert.equal(tf.memory().numTensors, tensors, 'the tensor count stays flat');
  await assert.rejects(s.saveCheckpoint(), /held in memory/);
  s.dispose();
});

test('a warping decoder is refused in memory (it needs landmarks to start from)', async () => {
  await initBackend({ force: 'wasm' });
  const { resolveRecipe } = await import('../../lib/train/recipes');
  const warp = resolveRecipe('warp', { inputSize: 16 }).config;
  await assert.rejects(TrainingSession.inMemory({ faces: { a: blobs(4, 220), b: blobs(4, 60) }, config: warp }), /warping decoder/);
});

test('train --minutes: a time budget through the CLI, alone or with --steps (whichever ends first)', { timeout: 300_000 }, async () => {
  const data = await syntheticFaces(6, 16);
  const base = ['train', '--a', data.a, '--b', data.b, '--model', data.model, '--recipe', 'classic', '--preset', 'tiny', '--size', '16', '--batch', '4', '--json'];
  const timed = runCli([...base, '--minutes', '0.01'], { DEEPFAKE_BACKEND: 'wasm' }, 240_000);
  assert.equal(timed.status, 0, timed.stderr);
  const j = timed.json as { steps: number; trained: number };
  assert.ok(j.trained >= 1 && j.trained < 1000, `0.6 s of training: ${j.trained} steps`);
  const both = runCli([...base, '--minutes', '10', '--steps', String(j.steps + 2)], { DEEPFAKE_BACKEND: 'wasm' }, 240_000);
  assert.equal(both.status, 0, both.stderr);
  assert.equal((both.json as { steps: number }).steps, j.steps + 2, '--steps ends first');
  assert.equal(runCli([...base, '--minutes', '-1']).status, 2);
});
