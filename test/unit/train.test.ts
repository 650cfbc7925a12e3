// The training loop in-process: checkpoints resume exactly, and a half-written checkpoint is never
// taken for a whole one (the loss falling and no tensor leaks: test/integration/train-run.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { initBackend } from '../../lib/backend';
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
