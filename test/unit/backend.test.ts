// initBackend: one backend per process. A later call that forces another one throws with the
// reason (it used to return the first answer, so the force was silently ignored); switching
// engines under live models would strand their tensors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { BackendUnavailableError, initBackend } from '../../lib/engine/backend';

test('a failed forced start lets a later call choose; then forcing another backend throws naming both, and the engine stays', async () => {
  await assert.rejects(initBackend({ force: 'tfjs-node-gpu' }), BackendUnavailableError);
  const first = await initBackend({ force: 'cpu' });
  assert.equal(first.backend, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  await assert.rejects(initBackend({ force: 'wasm' }), (e: unknown) => {
    assert.ok(e instanceof BackendUnavailableError);
    assert.equal(e.message, 'the cpu backend is already running in this process; wasm needs a new process (DEEPFAKE_BACKEND=wasm)');
    return true;
  });
  assert.equal(tf.getBackend(), 'cpu');
  assert.equal((await initBackend()).backend, 'cpu', 'no force: the running choice');
  assert.equal(await initBackend({ force: 'cpu' }), first, 'the same force: the same choice, not probed again');
});
