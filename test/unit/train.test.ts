// The training loop in-process: checkpoints resume exactly, and a half-written checkpoint is never
// taken for a whole one (the loss falling and no tensor leaks: test/integration/train-run.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, truncateSync, writeFileSync } from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
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
  assert.deepEqual(listCheckpoints(data.model).map((d) => path.basename(d)), ['step-00000006', 'step-00000003'], 'the newest and the one before are kept');
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

test('a damaged newest checkpoint: the one before it is loaded, with one line naming the damaged file', async () => {
  const data = await syntheticFaces(6, 16);
  const s = await open(data);
  // A checkpoint at step 1, and the final one at step 2: the newest and the one before are kept.
  await runTraining(s, { steps: 2, checkpointEvery: 1, previewEvery: 0, stream: null });
  s.dispose();
  assert.deepEqual(listCheckpoints(data.model).map((d) => path.basename(d)), ['step-00000002', 'step-00000001']);
  const [newest, previous] = listCheckpoints(data.model);
  const damaged = path.join(newest, 'encoder', 'weights.bin');
  truncateSync(damaged, 100);
  const lines: string[] = [];
  const again = await open(data, { log: (l) => lines.push(l) });
  assert.equal(again.step, 1);
  assert.equal(again.resumedFrom, previous);
  const about = lines.filter((l) => l.includes(damaged));
  assert.equal(about.length, 1, lines.join('\n'));
  assert.match(about[0], /previous checkpoint/);
  // Trained past the damaged step: the damaged one goes, the whole one before stays the fallback.
  await runTraining(again, { steps: 3, checkpointEvery: 100, previewEvery: 0, stream: null });
  again.dispose();
  assert.deepEqual(listCheckpoints(data.model).map((d) => path.basename(d)), ['step-00000003', 'step-00000001']);

  // None usable: one line naming the file and what to do.
  truncateSync(path.join(data.model, 'checkpoints', 'step-00000003', 'encoder', 'weights.bin'), 100);
  truncateSync(path.join(previous, 'optimizer_a.bin'), 100);
  await assert.rejects(open(data), (e: Error) => {
    assert.ok(e.message.includes(path.join(previous, 'optimizer_a.bin')), e.message);
    assert.match(e.message, /delete .*checkpoints/);
    assert.ok(!e.message.includes('\n'));
    return true;
  });
});

test('a checkpoint saved without checksums (before they were recorded) still loads; a short weights file is a clear error', async () => {
  const data = await syntheticFaces(6, 16);
  const s = await open(data);
  await runTraining(s, { steps: 1, checkpointEvery: 100, previewEvery: 0, stream: null });
  s.dispose();
  const dir = latestCheckpoint(data.model)!;
  const stateFile = path.join(dir, 'state.json');
  const { files, ...old } = JSON.parse(readFileSync(stateFile, 'utf8')) as Record<string, unknown>;
  assert.ok(files, 'new checkpoints record their files');
  writeFileSync(stateFile, JSON.stringify(old));
  const again = await open(data);
  assert.equal(again.step, 1);
  again.dispose();
  truncateSync(path.join(dir, 'optimizer_b.bin'), 100);
  await assert.rejects(open(data), /optimizer_b\.bin: holds 100 bytes/);
});
