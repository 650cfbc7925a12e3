// Chapter 03's watched training: short runs with a picture, a checkpoint and a loss line after
// each, stopping at the step or time budget; a second call continues the same model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { decodeImage } from '../../lib/util/image';
import { listCheckpoints } from '../../lib/train/checkpoint';
import { TrainingSession } from '../../lib/train/session';
import { enlargedPreview, reconstructionGrid, trainWatched } from '../../lib/viz/training';
import { syntheticFaces, tinyConfig } from '../train-fixtures';

const FAST = { adam: { learningRate: 2e-3, beta1: 0.5, beta2: 0.999 }, batchSize: 4, holdout: 0.2 };

test('trainWatched: a picture and a checkpoint every N steps, the step budget respected, a rerun continues', async () => {
  await initBackend({ force: 'wasm' });
  const data = await syntheticFaces(8, 16);
  const session = await TrainingSession.open({ modelDir: data.model, data: { a: data.a, b: data.b }, config: tinyConfig(), settings: FAST });
  const lines: string[] = [];
  let shown = 0;
  const picture = async () => {
    shown++;
    return reconstructionGrid(session.ae, session.previewFaces('a', 3), 'a', 'A');
  };
  await trainWatched(session, { minutes: 10, steps: 5 }, picture, { everySteps: 2, log: (l) => lines.push(l) });
  assert.equal(session.step, 5);
  assert.equal(shown, 3, 'runs of 2, 2 and 1 steps, a picture after each');
  assert.deepEqual(lines.slice(0, 3).map((l) => l.split(':')[0]), ['step 2', 'step 4', 'step 5']);
  assert.match(lines[3], /^trained 5 steps in \d+ s; the model is at step 5$/);
  assert.equal(listCheckpoints(data.model).length > 0, true);
  const tensors = tf.memory().numTensors;
  await trainWatched(session, { minutes: 10, steps: 3 }, picture, { everySteps: 10, log: () => undefined });
  assert.equal(session.step, 8);
  assert.equal(shown, 4);
  assert.equal(tf.memory().numTensors, tensors, 'no tensor left behind by training or pictures');
});

test('trainWatched: the time budget stops training early, and everySeconds shortens the runs', async () => {
  await initBackend({ force: 'wasm' });
  const data = await syntheticFaces(8, 16);
  const session = await TrainingSession.open({ modelDir: data.model, data: { a: data.a, b: data.b }, config: tinyConfig(), settings: FAST });
  let shown = 0;
  const picture = async () => (shown++, new Uint8Array());
  await trainWatched(session, { minutes: 0, steps: 1000 }, picture, { everySteps: 100, log: () => undefined });
  assert.equal(session.step, 0, 'a zero-minute budget trains nothing');
  assert.equal(shown, 0, 'and shows no picture');
  await trainWatched(session, { minutes: 0.5 / 60, steps: 1000 }, picture, { everySteps: 1000, log: () => undefined });
  assert.ok(session.step >= 1 && session.step < 1000, `half a second of steps stops early (${session.step} steps)`);
  const at = session.step;
  await trainWatched(session, { minutes: 10, steps: 4 }, picture, { everySteps: 100, everySeconds: 0, log: () => undefined });
  assert.equal(session.step, at + 4);
  assert.equal(shown, 1 + 4, 'everySeconds 0: a picture after every step');
});

test('reconstructionGrid: the faces above their reconstructions, one column per face', async () => {
  await initBackend({ force: 'wasm' });
  const data = await syntheticFaces(8, 16);
  const session = await TrainingSession.open({ modelDir: data.model, data: { a: data.a, b: data.b }, config: tinyConfig(), settings: FAST });
  const faces = session.previewFaces('b', 4);
  const png = await reconstructionGrid(session.ae, faces, 'b', 'B');
  const img = await decodeImage(png);
  // imageGrid's cells: 96 px squares, each with a 14 px caption strip below it (lib/viz/faces.ts).
  const CELL = 96, CAPTION = 14;
  assert.equal(faces.length, 4, 'four held-out faces of B');
  assert.deepEqual([img.width, img.height], [faces.length * CELL, 2 * (CELL + CAPTION)], 'one column per face, faces above their reconstructions');
  // Another number of faces, another number of columns (and still two rows).
  for (const n of [1, 2, 3]) {
    const fewer = await decodeImage(await reconstructionGrid(session.ae, faces.slice(0, n), 'b', 'B'));
    assert.deepEqual([fewer.width, fewer.height], [n * CELL, 2 * (CELL + CAPTION)], `${n} face(s)`);
  }
  session.dispose();
});

test('enlargedPreview: the preview grid at twice its size', async () => {
  await initBackend({ force: 'wasm' });
  const data = await syntheticFaces(8, 16);
  const session = await TrainingSession.open({ modelDir: data.model, data: { a: data.a, b: data.b }, config: tinyConfig(), settings: FAST });
  let preview: string | null = null;
  await trainWatched(session, { minutes: 10, steps: 1 }, async (r) => {
    preview = r.preview;
    return enlargedPreview(r.preview);
  }, { everySteps: 1, log: () => undefined });
  assert.ok(preview, 'runTraining wrote a preview');
  const small = await decodeImage(preview);
  const big = await decodeImage(await enlargedPreview(preview, 2));
  assert.deepEqual([big.width, big.height], [small.width * 2, small.height * 2]);
});
