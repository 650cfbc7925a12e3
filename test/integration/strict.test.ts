// Strict mode (DEEPFAKE_STRICT=1, set by .ci/run): a missing part fails the suite with its
// reason; without it the same tests skip with the reason, as a user's `npm test` should.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'path';
import { PROJECT_ROOT } from '../helpers/shared';

const PROBE = path.join('test', 'fixtures', 'strict', 'probe.test.ts');

function runProbe(strict: boolean) {
  const env: NodeJS.ProcessEnv = { ...process.env, DEEPFAKE_NATIVE_ADDON: '/nonexistent/deepfake_native.node', DEEPFAKE_STRICT: strict ? '1' : '' };
  delete env.NODE_TEST_CONTEXT;  // set by the outer test runner; the child must run its own tests
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', PROBE], { cwd: PROJECT_ROOT, env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

test('without strict mode a missing addon or shared folder skips with the reason', () => {
  const r = runProbe(false);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /needs the native addon.*# native addon unavailable: not built/);
  assert.match(r.out, /needs a shared folder.*# \.\.\/shared\/data\/no-such-folder is absent/);
  assert.match(r.out, /ℹ skipped 2/);
});

test('in strict mode the same run fails, naming each missing part once', () => {
  const r = runProbe(true);
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /✖ strict mode: the native addon is present/);
  assert.match(r.out, /the native addon is missing: native addon unavailable: not built/);
  assert.match(r.out, /✖ strict mode: \.\.\/shared\/data\/no-such-folder is present/);
  assert.match(r.out, /ℹ fail 2/);
  assert.match(r.out, /ℹ pass 1/);
});
