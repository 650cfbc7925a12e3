// The command-line contract: --json puts one JSON object on the last stdout line; usage errors exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectedBackend } from '../helpers/strict';
import { runCli } from '../helpers/cli';

// The set-up builds the native kernels where oneDNN is installed (it installs it on Debian).
const EXPECTED_BACKEND = expectedBackend();

test('doctor --json reports the native backend here (wasm without the addon), tfjs-node(-gpu) unavailable with a reason, versions and Jupyter', () => {
  const r = runCli(['doctor', '--json'], { DEEPFAKE_BACKEND: undefined });
  assert.equal(r.status, 0, r.stderr);
  const j = r.json as {
    backend: string;
    backends: Record<string, { available: boolean; reason: string }>;
    versions: Record<string, string | null>;
    jupyter: { found: boolean; kernel: string | null };
    trainingCheck: { ok: boolean };
    video: { ffmpeg: string | null; reason: string };
  };
  assert.ok(j, 'last stdout line is JSON');
  assert.match(j.video.ffmpeg ?? j.video.reason, /^\d+\.\d+/, 'the set-up installs ffmpeg');
  assert.equal(j.backend, EXPECTED_BACKEND);
  for (const name of ['tfjs-node-gpu', 'tfjs-node']) {
    assert.equal(j.backends[name].available, false);
    assert.match(j.backends[name].reason, /not installed \(npm install @tensorflow\//);
  }
  assert.equal(j.backends.wasm.available, true);
  assert.match(j.backends.wasm.reason, EXPECTED_BACKEND === 'wasm' ? /^chosen/ : /^available but not chosen \(slower than native\)/);
  assert.match(j.backends.native.reason, EXPECTED_BACKEND === 'native' ? /^chosen: compiled kernels on oneDNN/ : /^not built|failed/);
  assert.equal(j.backends.cpu.available, true);
  assert.match(j.backends.cpu.reason, /not chosen/);
  assert.equal(j.versions['@tensorflow/tfjs'], '4.22.0');
  assert.equal(j.versions['@vladmandic/face-api'], '1.7.15');
  assert.equal(j.trainingCheck.ok, true);
  assert.deepEqual(j.jupyter.found, true);
  assert.equal(j.jupyter.kernel, 'deepfake-lab');
});

test('DEEPFAKE_BACKEND=cpu forces the cpu backend', () => {
  const r = runCli(['doctor', '--json'], { DEEPFAKE_BACKEND: 'cpu' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.json?.backend, 'cpu');
});

test('forcing an unavailable backend exits 2 with a one-line reason', () => {
  const r = runCli(['doctor', '--json'], { DEEPFAKE_BACKEND: 'tfjs-node' });
  assert.equal(r.status, 2);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /DEEPFAKE_BACKEND=tfjs-node is unavailable: not installed/);
  const bogus = runCli(['doctor'], { DEEPFAKE_BACKEND: 'tpu' });
  assert.equal(bogus.status, 2);
  assert.match(bogus.stderr, /not a backend; use one of tfjs-node-gpu, webgpu, native, tfjs-node, wasm, cpu/);
});

test('doctor names WebGPU in one line, and on a machine without a GPU driver the CPU path stays chosen', () => {
  const r = runCli(['doctor', '--json'], { DEEPFAKE_BACKEND: undefined });
  assert.equal(r.status, 0, r.stderr);
  const j = r.json as { backend: string; backends: Record<string, { available: boolean; reason: string; adapter?: { software: boolean } }> };
  const w = j.backends.webgpu!;
  assert.ok(w && typeof w.reason === 'string' && !w.reason.includes('\n'), JSON.stringify(w));
  // A software adapter is never chosen on its own; only a GPU makes webgpu the choice.
  if (!w.available || w.adapter?.software) assert.equal(j.backend, EXPECTED_BACKEND);
  assert.doesNotMatch(r.stderr, /vkCreateInstance/, 'no Vulkan loader warnings when there is no driver');
});

test('human doctor output names the chosen backend and each other one', () => {
  const r = runCli(['doctor'], { DEEPFAKE_BACKEND: undefined });
  assert.equal(r.status, 0);
  assert.match(r.stdout, new RegExp(`^backend: ${EXPECTED_BACKEND}$`, 'm'));
  assert.match(r.stdout, /tfjs-node-gpu +no +not installed/);
  assert.match(r.stdout, /training check: ok/);
});

test('usage errors exit 2 with one line on stderr', () => {
  for (const args of [['doctor', '--bogus'], ['no-such-command'], ['train', '--a', 'x'], []]) {
    const r = runCli(args);
    assert.equal(r.status, 2, `${args.join(' ')} exits 2`);
    if (args.length) assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const help = runCli(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /doctor/);
});
