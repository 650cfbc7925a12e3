// Training that blows up is caught (lib/train/divergence.ts): a noisy but falling loss is never
// flagged, a jump that stays is flagged within a window, a NaN at once (the run with an absurd
// learning rate is in test/integration/divergence-training.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DivergenceWatch } from '../../lib/train/divergence';
import type { HistoryEntry } from '../../lib/train/history';
import { mulberry32 } from '../helpers/rng';

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
