// Training on the native backend: the same run as on wasm (loss curve within tolerance), no
// growth in tensors or memory over 200 steps, and the wasm fallback when the addon is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { addonPath, loadAddon } from '../../lib/engine/native/addon';
import { cpuMismatch, cpuStampPath, CpuStampSchema, featuresFromMacros, probeFlags } from '../../lib/engine/native/cpu';
import { NativeBackend } from '../../lib/engine/native/native-backend';
import { runTraining } from '../../lib/train/run';
import { TrainingSession } from '../../lib/train/session';
import { runCli } from '../helpers/cli';
import { syntheticFaces, tinyConfig } from '../train-fixtures';
import { nativeSkip, STRICT } from '../helpers/strict';

const load = loadAddon();
const skip = nativeSkip();
const FAST = { adam: { learningRate: 1e-3, beta1: 0.5, beta2: 0.999 }, batchSize: 4, holdout: 0.2 };

test('a training run on native follows the same loss curve as on wasm', { skip }, async () => {
  await initBackend({ force: 'native' });
  const data = await syntheticFaces(8, 32);
  const curves: Record<string, number[]> = {};
  for (const backend of ['wasm', 'native']) {
    await tf.setBackend(backend);
    const s = await TrainingSession.open({ modelDir: path.join(data.root, backend), data, config: tinyConfig({ inputSize: 32 }), settings: { ...FAST, seed: 3 } });
    await runTraining(s, { steps: 30, checkpointEvery: 1000, previewEvery: 0, stream: null });
    curves[backend] = s.history.map((e) => (e.loss.a + e.loss.b) / 2);
    s.dispose();
  }
  const [wasm, native] = [curves.wasm!, curves.native!];
  assert.equal(native.length, 30);
  // Same seed, same batches, same initial weights: only float rounding differs (sums in another
  // order), and 30 steps of Adam amplify it. The worst step's gap, measured for seeds 3 / 4 / 5:
  // 2.36 / 1.37 / 0.54% (matrix products on oneDNN's matmul primitive), 1.58% for seed 3 when they
  // ran on its sgemm, 2.12% with every convolution forced onto the matrix-product path. Two native
  // summation orders differ by 0.08-0.64% from each other. A wrong kernel moves it by more than
  // 3%: the dense layers' bias dropped, 9.07%.
  for (const [i, w] of wasm.entries()) {
    const rel = Math.abs(native[i]! - w) / w;
    assert.ok(rel < 0.03, `step ${i + 1}: native ${native[i]!.toFixed(5)} vs wasm ${w.toFixed(5)} (${(100 * rel).toFixed(2)}% apart)`);
  }
  assert.ok(native[29]! < native[0]!, 'and it learns');
});

test('200 native training steps: tensor count, tensor bytes and resident memory stay flat', { skip }, async () => {
  await initBackend({ force: 'native' });
  await tf.setBackend('native');
  const data = await syntheticFaces(8, 32, 5);
  const s = await TrainingSession.open({ modelDir: data.model, data, config: tinyConfig({ inputSize: 32 }), settings: { ...FAST, seed: 4 } });
  const at: Record<number, { tensors: number; bytes: number; rss: number }> = {};
  for (let i = 1; i <= 200; i++) {
    await s.trainStep();
    if (i === 20 || i === 200) at[i] = { tensors: tf.memory().numTensors, bytes: tf.memory().numBytes, rss: process.memoryUsage().rss };
  }
  assert.equal(at[200]!.tensors, at[20]!.tensors, 'tensor count');
  assert.equal(at[200]!.bytes, at[20]!.bytes, 'tensor bytes');
  // Recycled output arrays mean the process stops growing once the first steps have allocated.
  const growthMB = (at[200]!.rss - at[20]!.rss) / 2 ** 20;
  assert.ok(growthMB < 64, `resident memory grew ${growthMB.toFixed(1)} MB between step 20 and step 200`);
  assert.ok((tf.backend() as NativeBackend).poolBytes() <= 512 * 2 ** 20);
  s.dispose();
});

test('doctor: native is chosen when built; without the addon the choice falls back to wasm with a one-line reason', async () => {
  const withAddon = runCli(['doctor', '--json']);
  assert.equal(withAddon.status, 0, withAddon.stderr);
  const chosen = JSON.parse(withAddon.stdout) as { backend: string; backends: Record<string, { reason: string }> };
  if (load.ok || STRICT) assert.equal(chosen.backend, 'native', chosen.backends.native?.reason);

  const without = runCli(['doctor', '--json'], { DEEPFAKE_NATIVE_ADDON: '/nonexistent/deepfake_native.node' });
  assert.equal(without.status, 0, without.stderr);
  const fallback = JSON.parse(without.stdout) as { backend: string; backends: Record<string, { available: boolean; reason: string }> };
  assert.equal(fallback.backend, 'wasm');
  assert.equal(fallback.backends.native?.available, false);
  assert.match(fallback.backends.native!.reason, /^not built \(.*missing/);
  assert.ok(!fallback.backends.native!.reason.includes('\n'), 'one line');

  // And training itself still runs there (a few steps of the tiny model on wasm).
  const data = await syntheticFaces(4, 16, 9);
  const train = runCli(['train', '--a', data.a, '--b', data.b, '--model', data.model, '--preset', 'tiny', '--steps', '3', '--batch', '2', '--json'], {
    DEEPFAKE_NATIVE_ADDON: '/nonexistent/deepfake_native.node',
  });
  assert.equal(train.status, 0, train.stderr);
  assert.match(train.stderr, /backend wasm/);
});

test('a build stamped for CPU features this CPU lacks is not loaded: doctor falls back to wasm and names them', { skip }, () => {
  // A copy of the real addon, with a stamp as a build on a newer CPU would write.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deepfake-lab-cpu-'));
  try {
    const copy = path.join(dir, 'deepfake_native.node');
    fs.copyFileSync(addonPath(), copy);
    fs.writeFileSync(cpuStampPath(copy), JSON.stringify({ march: 'native', requires: ['avx2', 'no_such_extension'] }));
    const r = runCli(['doctor', '--json'], { DEEPFAKE_NATIVE_ADDON: copy });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { backend: string; backends: Record<string, { available: boolean; reason: string }> };
    assert.equal(j.backend, 'wasm');
    assert.match(j.backends.native!.reason, /^built for CPU features this CPU lacks \(no_such_extension; -march=native\): run npm run setup/);
    // The set-up's own stamp for this machine's build names only features this CPU has.
    const own = cpuStampPath(addonPath());
    assert.ok(fs.existsSync(own), `${own} is written by the set-up`);
    assert.equal(cpuMismatch(addonPath()), null);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the CPU probe reads CPUID and lists every extension the set-up\'s build was compiled for', { skip: !fs.existsSync(addonPath()) && 'native addon not built' }, () => {
  const flags = probeFlags(addonPath());
  assert.ok(flags, 'the set-up builds native/build/Release/deepfake_cpu.node beside the addon');
  assert.ok(flags.has('sse4_2') && flags.has('popcnt'), `an x86-64 machine of this project's kind has SSE4.2: ${[...flags].join(' ')}`);
  // The build machine runs its own build: every feature g++ -march=native used is present. (Where
  // /proc/cpuinfo omits one, as it omits "abm" on the AMD machines here, this is what keeps the
  // addon loading.)
  const stamp = JSON.parse(fs.readFileSync(cpuStampPath(addonPath()), 'utf8')) as unknown;
  const missing = CpuStampSchema.parse(stamp).requires.filter((f) => !flags.has(f));
  assert.deepEqual(missing, []);
  // It names features in /proc/cpuinfo's spelling, the stamp's: without avx2 the refusal quotes it.
  assert.match(cpuMismatch(addonPath(), new Set([...flags].filter((f) => f !== 'avx2'))) ?? '', /lacks \(avx2; -march=native\)/);
});

test('featuresFromMacros maps the compiler\'s ISA macros to /proc/cpuinfo flags', () => {
  const macros = '#define __AVX2__ 1\n#define __AVX512BF16__ 1\n#define __SSE2__ 1\n#define __x86_64__ 1\n';
  assert.deepEqual(featuresFromMacros(macros), ['avx2', 'avx512_bf16']);
});
