// What face-api sees in the built-in identities' renders (split from test/unit/samples.test.ts:
// it loads face-api's networks and detects on 20 renders).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/engine/backend';
import { checkDetection } from '../../lib/samples/detection-check';
import { sample } from '../../lib/samples/params';
import { loadPerson, render } from '../../lib/samples/rig';

test('face-api finds the rendered faces, with landmarks close to the true ones', async (t) => {
  await initBackend();
  const n = 10;
  for (const id of ['a', 'b'] as const) {
    const person = await loadPerson(id);
    const renders = [];
    for (let i = 0; i < n; i++) renders.push(await render(person, sample(`test-detect:${id}:${i}`)));
    const c = await checkDetection(renders);
    t.diagnostic(`${id}: ${c.detected}/${c.renders} detected, mean landmark error ${((c.meanLandmarkError ?? NaN) * 100).toFixed(2)}% of the eye distance`);
    assert.ok(c.rate >= 0.9, `${id}: detection rate ${c.rate}`);
    assert.ok(c.meanLandmarkError !== null && c.meanLandmarkError < 0.05, `${id}: landmark error ${c.meanLandmarkError}`);
  }
});
