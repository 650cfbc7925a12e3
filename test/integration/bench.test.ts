// The benchmark tool: FLOP counts checked by hand, and the CLI's JSON. No speed is asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import { initBackend } from '../../lib/engine/backend';
import { forwardFlops, trainStepFlops } from '../../lib/benchmark/flops';
import { buildAutoencoder, disposeAutoencoder } from '../../lib/model/builder';
import { presetConfig } from '../../lib/model/config';
import { runCli } from '../helpers/cli';
import { expectedBackend } from '../helpers/strict';

test('FLOPs of the lite model match a count by hand', async () => {
  await initBackend();
  const ae = buildAutoencoder(presetConfig('lite'), { seed: 1 });
  // Encoder: convs 64->32->16->8->4 px (5x5; 3-32-64-128-256 channels), dense 4096->256->4096,
  // upscale conv 3x3 256->512 at 4x4.
  const encoder = 2 * (32 * 32 * 25 * 3 * 32 + 16 * 16 * 25 * 32 * 64 + 8 * 8 * 25 * 64 * 128 + 4 * 4 * 25 * 128 * 256 + 4096 * 256 + 256 * 4096 + 4 * 4 * 9 * 256 * 512);
  // Decoder: upscale convs 3x3 128->256 at 8 px, 64->128 at 16, 32->64 at 32, final 5x5 16->3 at 64.
  const decoder = 2 * (8 * 8 * 9 * 128 * 256 + 16 * 16 * 9 * 64 * 128 + 32 * 32 * 9 * 32 * 64 + 64 * 64 * 25 * 16 * 3);
  assert.equal(forwardFlops(ae.encoder), encoder);
  assert.equal(forwardFlops(ae.decoders.a), decoder);
  assert.equal(trainStepFlops(ae, 'a', 16), 3 * 16 * (encoder + decoder));
  disposeAutoencoder(ae);
});

test('bench --json reports throughput, effective GFLOP/s, data prep and peak memory', { timeout: 300_000 }, () => {
  const r = runCli(['bench', '--presets', 'tiny', '--batch', '4', '--steps', '2', '--runs', '2', '--profile', '--no-extract', '--json'], {}, 300_000);
  assert.equal(r.status, 0, r.stderr);
  const j = r.json as {
    backend: string;
    matmulGflops: number;
    runs: number;
    train: Array<{ preset: string; facesPerSecond: number; effectiveGflops: number; prepMsPerBatch: number; peakRssMB: number; runsFacesPerSecond: number[];
      profile: { kernels: Array<{ kernel: string; msPerStep: number; callsPerStep: number }> } }>;
    peakRssMB: number;
  };
  assert.equal(j.backend, expectedBackend());
  assert.ok(j.matmulGflops > 0);
  assert.equal(j.train[0].preset, 'tiny');
  assert.ok(j.train[0].facesPerSecond > 0 && j.train[0].effectiveGflops > 0 && j.train[0].prepMsPerBatch > 0);
  assert.ok(j.train[0].peakRssMB > 50 && j.peakRssMB >= j.train[0].peakRssMB);
  // Two runs, the median between them; and a per-kernel profile naming the convolutions.
  assert.equal(j.runs, 2);
  assert.equal(j.train[0].runsFacesPerSecond.length, 2);
  const [lo, hi] = [...j.train[0].runsFacesPerSecond].sort((a, b) => a - b);
  assert.ok(j.train[0].facesPerSecond >= lo! - 0.01 && j.train[0].facesPerSecond <= hi! + 0.01);
  const names = j.train[0].profile.kernels.map((k) => k.kernel);
  for (const k of ['Conv2DBackpropFilter', 'Conv2DBackpropInput']) assert.ok(names.includes(k), `${k} in the profile: ${names.join(', ')}`);
  assert.ok(j.train[0].profile.kernels.every((k) => k.msPerStep >= 0 && k.callsPerStep > 0));
  assert.equal(runCli(['bench', '--presets', 'huge']).status, 2);
  assert.equal(runCli(['bench', '--reference', 'tensorflow']).status, 2);
});

const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
test('the PyTorch reference builds the same lite model (5,137,190 parameters)', { skip: hasTorch ? false : 'python3-torch is not installed (DEEPFAKE_SETUP_TORCH=1 npm run setup installs it)', timeout: 120_000 }, () => {
  const r = spawnSync('/usr/bin/python3', ['lib/benchmark/torch_reference.py', '--preset', 'lite', '--batch', '2', '--steps', '1', '--warmup', '0'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as { params: number; facesPerSecond: number };
  assert.equal(j.params, 5_137_190);
  assert.ok(j.facesPerSecond > 0);
});

test('bench --precision fp32,bf16: a row per precision naming oneDNN\'s implementation, and the bf16/fp32 ratio; bad values exit 2', { timeout: 300_000 }, async () => {
  assert.equal(runCli(['bench', '--presets', 'tiny', '--precision', 'fp8', '--no-extract']).status, 2);
  // As the child process will see it (this process may have moved to another backend).
  const { bf16Unavailable } = await import('../../lib/engine/native/precision');
  const why = bf16Unavailable(expectedBackend());
  // lite: its largest convolution is wide enough for bf16 (tiny's run in fp32 either way).
  const r = runCli(['bench', '--presets', 'lite', '--batch', '2', '--steps', '2', '--precision', 'fp32,bf16', '--no-extract', '--json'], {}, 300_000);
  if (why) {
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim().split('\n').pop(), `deepfake-lab: ${why}`);
    return;
  }
  assert.equal(r.status, 0, r.stderr);
  const j = r.json as { train: Array<{ preset: string; precision: string; convImplementation: string; facesPerSecond: number }>; bf16OverFp32: Record<string, number> };
  assert.deepEqual(j.train.map((t) => [t.preset, t.precision]), [['lite', 'fp32'], ['lite', 'bf16']]);
  assert.doesNotMatch(j.train[0]!.convImplementation, /bf16/);
  assert.match(j.train[1]!.convImplementation, /bf16/);
  assert.ok(j.bf16OverFp32.lite! > 0 && Math.abs(j.bf16OverFp32.lite! - j.train[1]!.facesPerSecond / j.train[0]!.facesPerSecond) < 0.01);
});

test('bench --precision fp32,bf16 --reference torch: bf16 against PyTorch\'s fp32, run by run', { skip: hasTorch ? false : 'python3-torch is not installed', timeout: 300_000 }, async () => {
  const { bf16Unavailable } = await import('../../lib/engine/native/precision');
  if (bf16Unavailable(expectedBackend())) return;
  const r = runCli(['bench', '--presets', 'lite', '--batch', '2', '--steps', '2', '--precision', 'fp32,bf16', '--reference', 'torch', '--no-extract', '--json'], {}, 300_000);
  assert.equal(r.status, 0, r.stderr);
  const j = r.json as { train: Array<{ precision: string; facesPerSecond: number }>; reference: Array<{ facesPerSecond: number }>; bf16OverTorch: Record<string, number> };
  const bf16 = j.train.find((t) => t.precision === 'bf16')!;
  assert.ok(Math.abs(j.bf16OverTorch.lite! - bf16.facesPerSecond / j.reference[0]!.facesPerSecond) < 0.01, JSON.stringify(j.bf16OverTorch));
});

test('bench --precision all (npm run bench): fp32, and bf16 only where it can run, saying why not', { timeout: 300_000 }, async () => {
  const { bf16Unavailable } = await import('../../lib/engine/native/precision');
  const why = bf16Unavailable(expectedBackend());
  const r = runCli(['bench', '--presets', 'tiny', '--batch', '2', '--steps', '1', '--precision', 'all', '--no-extract', '--json'], {}, 300_000);
  assert.equal(r.status, 0, r.stderr);
  const j = r.json as { train: Array<{ precision: string }> };
  assert.deepEqual(j.train.map((t) => t.precision), why ? ['fp32'] : ['fp32', 'bf16']);
  if (why) assert.ok(r.stderr.includes(`bf16 skipped: ${why}`), r.stderr);
  // Where bf16 cannot run (here: another backend), fp32 alone and the reason.
  const wasm = runCli(['bench', '--presets', 'tiny', '--batch', '2', '--steps', '1', '--backend', 'wasm', '--precision', 'all', '--no-extract', '--json'], { DEEPFAKE_BACKEND: undefined }, 300_000);
  assert.equal(wasm.status, 0, wasm.stderr);
  assert.deepEqual((wasm.json as { train: Array<{ precision: string }> }).train.map((t) => t.precision), ['fp32']);
  assert.match(wasm.stderr, /bf16 skipped: bf16 needs the native backend \(running: wasm\)/);
});

test('bench --batch 2,3 measures each batch size; --backend picks the backend; bad values exit 2', { timeout: 300_000 }, () => {
  const r = runCli(['bench', '--presets', 'tiny', '--batch', '2,3', '--steps', '1', '--backend', expectedBackend(), '--no-extract', '--json'], { DEEPFAKE_BACKEND: undefined }, 300_000);
  assert.equal(r.status, 0, r.stderr);
  const j = r.json as { backend: string; train: Array<{ preset: string; batch: number; facesPerSecond: number; backend: string }> };
  assert.deepEqual(j.train.map((t) => [t.preset, t.batch]), [['tiny', 2], ['tiny', 3]]);
  assert.ok(j.train.every((t) => t.facesPerSecond > 0));
  assert.equal(j.backend, expectedBackend());
  assert.equal(runCli(['bench', '--presets', 'tiny', '--backend', 'tpu', '--no-extract']).status, 2);
  assert.equal(runCli(['bench', '--presets', 'tiny', '--batch', '2,x', '--no-extract']).status, 2);
});

test('measureTrainSpeed times steps only after its warm-up: one step by default, more until the warm-up seconds have passed', { timeout: 120_000 }, async () => {
  await initBackend();
  const { measureTrainSpeed } = await import('../../lib/benchmark/train-speed');
  const plain = await measureTrainSpeed('tiny', 2, 2);
  assert.equal(plain.warmupSteps, 1);
  assert.ok(plain.warmupMs > 0 && plain.warmupMs < 60_000, `one warm-up step took ${plain.warmupMs} ms`);
  const warmed = await measureTrainSpeed('tiny', 2, 2, 1, 1);
  assert.ok(warmed.warmupMs >= 1000, `timing began ${warmed.warmupMs} ms in, after the warm-up second`);
  assert.ok(warmed.warmupSteps >= 1);
  assert.equal(warmed.steps, 2);
});
