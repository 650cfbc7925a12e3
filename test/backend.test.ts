// initBackend: one choice per process, but a later call that forces another backend is obeyed
// (it used to return the first answer, silently ignoring the force).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { BackendUnavailableError, initBackend } from '../lib/backend';

test('a later initBackend({ force }) switches the engine; a plain call keeps the current choice', async () => {
  const first = await initBackend({ force: 'cpu' });
  assert.equal(first.backend, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  const second = await initBackend({ force: 'wasm' });
  assert.equal(second.backend, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal((await initBackend()).backend, 'wasm', 'no force: the choice made last stands');
  assert.equal(await initBackend({ force: 'wasm' }), await initBackend({ force: 'wasm' }), 'the same request is not probed again');
});

test('a forced backend that cannot start leaves the working choice in place', async () => {
  await initBackend({ force: 'cpu' });
  await assert.rejects(initBackend({ force: 'tfjs-node-gpu' }), BackendUnavailableError);
  assert.equal((await initBackend()).backend, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
});
