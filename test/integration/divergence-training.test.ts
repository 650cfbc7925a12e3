// A training run that blows up is caught (lib/train/divergence.ts): a run with an absurd learning
// rate stops early with the reason, and a resumed diverged model stops at its first step. Split from
// test/unit/divergence.test.ts (the watch itself) because it trains for several seconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/engine/backend';
import { NO_AUGMENT } from '../../lib/train/augment';
import { runTraining } from '../../lib/train/run';
import { TrainingSession } from '../../lib/train/session';
import { syntheticFaces, tinyConfig } from '../train-fixtures';

test('a run at an absurd learning rate stops early, says why, and a resumed run stops at once', async () => {
  await initBackend({ force: 'wasm' });
  const data = await syntheticFaces(10, 16);
  const settings = { adam: { learningRate: 2e-3, beta1: 0.5, beta2: 0.999 }, batchSize: 4, holdout: 0.2, augment: NO_AUGMENT };
  const open = () => TrainingSession.open({ modelDir: data.model, data: { a: data.a, b: data.b }, config: tinyConfig(), settings });
  const s = await open();
  const lines: string[] = [];
  const stream = { write: (t: string) => (lines.push(t), true) } as unknown as NodeJS.WritableStream; // only write() is used
  const calm = await runTraining(s, { steps: 80, checkpointEvery: 0, previewEvery: 0, stream });
  assert.equal(calm.diverged, null, 'a sane rate is not flagged');
  // Then the rate a learner might type by mistake (3 for 3e-3), with no schedule in the way.
  (s.settings.adam as { learningRate: number }).learningRate = 3;
  const r = await runTraining(s, { steps: 480, checkpointEvery: 0, previewEvery: 0, stream, logSeconds: 1e9 });
  assert.ok(r.diverged, `not flagged in 400 steps at rate 3; losses ${s.history.slice(-3).map((e) => JSON.stringify(e.loss)).join(' ')}`);
  assert.ok(r.stopped && r.steps < 480 && r.steps === r.diverged.step, `stopped at ${r.steps}, flagged at ${r.diverged.step}`);
  assert.ok(lines.some((l) => l.startsWith('train: training diverged:') && l.includes('lower --lr')), lines.join(''));
  s.dispose();
  const again = await open();
  const r2 = await runTraining(again, { steps: 480, checkpointEvery: 0, previewEvery: 0, stream: null });
  assert.equal(r2.trained, 1, 'a resumed diverged model trains one step and stops');
  assert.ok(r2.diverged);
  again.dispose();
});
