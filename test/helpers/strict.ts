// Strict mode: DEEPFAKE_STRICT=1 (which .ci/run sets) turns "a part is missing, skip" into a
// failure naming the part, so CI cannot go green with the native build, Jupyter, Chromium or
// ../shared missing. A user's plain `npm test` still skips with the message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadAddon } from '../../lib/engine/native/addon';

export const STRICT = process.env.DEEPFAKE_STRICT === '1';

const reported = new Set<string>();

/**
 * For node:test's `skip` option, in tests that need `part`: false when it is there (`missing` is
 * false), else the reason. In strict mode a missing part also adds one failing test per file
 * that names it (the tests that need it still skip, so the failure is one clear line).
 */
export function needs(part: string, missing: string | false): string | false {
  if (!missing) return false;
  if (STRICT && !reported.has(part)) {
    reported.add(part);
    test(`strict mode: ${part} is present`, () => {
      assert.fail(`${part} is missing: ${missing} (DEEPFAKE_STRICT=1 makes this a failure, not a skip)`);
    });
  }
  return missing;
}

/** The skip reason for tests of the native addon (see `needs`). */
export function nativeSkip(): string | false {
  const load = loadAddon();
  return needs('the native addon', load.ok ? false : `native addon unavailable: ${load.reason}`);
}

/**
 * The backend the project must pick here: the one DEEPFAKE_BACKEND forces (the suite can be run
 * on webgpu that way), else native where the addon loads, else wasm. In strict mode native: a
 * failed build must fail these tests rather than move their expectation.
 */
export function expectedBackend(): string {
  const forced = process.env.DEEPFAKE_BACKEND?.trim();
  if (forced) return forced;
  return STRICT || loadAddon().ok ? 'native' : 'wasm';
}
