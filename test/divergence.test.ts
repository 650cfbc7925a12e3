// Training that blows up is caught (lib/train/divergence.ts): a noisy but falling loss is never
// flagged, a jump that stays is flagged within a window, a NaN at once; a run with an absurd
// learning rate stops early with the reason, and a resumed diverged model stops at its first step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../lib/engine/backend';
import { NO_AUGMENT } from '../lib/train/augment';
import { DivergenceWatch } from '../lib/train/divergence';
import type { HistoryEntry } from '../lib/train/history';
import { runTraining } from '../lib/train/run';
import { TrainingSession } from '../lib/train/session';
import { mulberry32 } from './helpers/rng';
import { syntheticFaces, tinyConfig } from './train-fixtures';

const entry = (step: number, a: number, b = a): HistoryEntry => ({ step, loss: { a, b }, facesPerSecond: 1, prepMs: 0, stepMs: 1, time: '' });

/** A falling loss with +-30% noise per step, as augmentation gives; `jumpAt`: x3 from that step on. */
function curve(steps: number, jumpAt = Infinity): HistoryEntry[] {
  const rand = mulberry32(7);
  return Array.from({ length: steps }, (_, i) => {
    const clean = 0.2 + 0.4 * Math.exp(-i / 300);
    return entry(i + 1, clean * (0.7 + 0.6 * rand()) * (i + 1 >= jumpAt ? 3 : 1), clean * (0.7 + 0.6 * rand()));
  });
}

test('divergence watch: a noisy falling loss is never flagged; a jump that stays is, within one window', () => {
  const calm = new DivergenceWatch();
  for (const e of curve(1500)) assert.equal(calm.observe(e), null, `flagged at step ${e.step}`);
  const watch = new DivergenceWatch({ window: 20, factor: 2 });
  const flagged = curve(1500, 400).map((e) => watch.observe(e)).find((d) => d !== null);
  assert.ok(flagged, 'a threefold jump at step 400 was not flagged');
  assert.equal(flagged.identity, 'a');
  assert.ok(flagged.step > 400 && flagged.step <= 420, `flagged at step ${flagged.step}`);
  assert.match(flagged.reason, /loss of a rose from 0\.\d+ to \d\.\d+/);
});

test('divergence watch: a NaN loss is flagged at its step', () => {
  const watch = new DivergenceWatch();
  for (let i = 1; i < 5; i++) assert.equal(watch.observe(entry(i, 0.5)), null);
  const d = watch.observe(entry(5, 0.5, NaN));
  assert.equal(d?.step, 5);
  assert.equal(d?.identity, 'b');
  assert.match(d.reason, /NaN/);
});

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
