// The automatic choice between a GPU and the CPU: a short training calibration decides, its result
// is cached per machine, and the cached answer is what later processes follow. On a machine
// without a GPU, SwiftShader's software adapter stands in for one (it loses to the CPU).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fastestOf } from '../../lib/engine/calibrate';
import { SWIFTSHADER_ICD, vulkanDrivers } from '../../lib/engine/webgpu';
import { PROJECT_ROOT } from '../helpers/shared';
import { needs, nativeSkip } from '../helpers/strict';

const skip = nativeSkip() || needs('a Vulkan driver for WebGPU (chromium\'s SwiftShader, or a GPU\'s)',
  vulkanDrivers().length || fs.existsSync(SWIFTSHADER_ICD) ? false : `no Vulkan driver and no ${SWIFTSHADER_ICD} (npm run setup installs chromium)`);

interface Choice {
  backend: string;
  backends: Record<string, { available: boolean; reason: string; facesPerSecond?: number }>;
  calibration?: { cached: boolean; fastest: string; key: string; facesPerSecond: Record<string, number>; preset: string; batch: number };
  seconds: number;
}

function choose(file: string): Choice {
  const env = { ...process.env, DEEPFAKE_BACKEND: '', DEEPFAKE_CALIBRATE: '' };
  const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'test', 'fixtures', 'backend', 'choose.ts'), file, 'tiny', '2'], { env, encoding: 'utf8', timeout: 300_000 });
  return JSON.parse(out.trim().split('\n').pop()!) as Choice;
}

test('fastestOf picks the most faces per second, and the CPU (listed last) when every run failed', () => {
  assert.equal(fastestOf({ webgpu: 900, native: 150 }, ['webgpu', 'native']), 'webgpu');
  assert.equal(fastestOf({ webgpu: 12, native: 150 }, ['webgpu', 'native']), 'native');
  assert.equal(fastestOf({ webgpu: 0, native: 0 }, ['webgpu', 'native']), 'native');
});

test('a GPU backend is chosen only when its calibration beats the CPU; the measurement is cached and followed', { skip, timeout: 600_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deepfake-lab-calibration-'));
  const file = path.join(dir, 'calibration.json');
  try {
    // 1. Measured: the software adapter loses to the CPU's compiled kernels.
    const first = choose(file);
    t.diagnostic(`measured in ${first.seconds.toFixed(1)} s: ${JSON.stringify(first.calibration?.facesPerSecond)}`);
    assert.equal(first.calibration?.cached, false);
    assert.equal(first.backend, 'native');
    const [gpu, cpu] = [first.calibration!.facesPerSecond.webgpu!, first.calibration!.facesPerSecond.native!];
    assert.ok(gpu > 0 && cpu > gpu, `webgpu ${gpu} vs native ${cpu} faces/s`);
    assert.equal(first.backends.webgpu!.facesPerSecond, gpu);
    assert.match(first.backends.webgpu!.reason, /^available but not chosen \(slower than native; calibration: webgpu \d+ vs native \d+ faces\/s \(tiny, batch 2/);
    assert.match(first.backends.native!.reason, /^chosen: compiled kernels/);
    // 2. A second process reads the answer instead of measuring.
    const second = choose(file);
    assert.equal(second.calibration?.cached, true);
    assert.deepEqual(second.calibration?.facesPerSecond, first.calibration!.facesPerSecond);
    assert.equal(second.backend, 'native');
    // 3. The cache is what the choice follows: the same key, with the GPU measured faster, chooses it.
    const cache = JSON.parse(fs.readFileSync(file, 'utf8'));
    const entry = cache.entries[first.calibration!.key];
    entry.facesPerSecond.webgpu = 10 * cpu;
    entry.fastest = 'webgpu';
    fs.writeFileSync(file, JSON.stringify(cache));
    const third = choose(file);
    assert.equal(third.backend, 'webgpu');
    assert.match(third.backends.webgpu!.reason, /^chosen: WebGPU on .*; calibration: webgpu \d+ vs native \d+ faces\/s/);
    assert.match(third.backends.native!.reason, /^available but not chosen \(slower than webgpu/);
    // 4. A damaged cache costs a measurement, not a failed start.
    fs.writeFileSync(file, '{ not json');
    const fourth = choose(file);
    assert.equal(fourth.calibration?.cached, false);
    assert.equal(fourth.backend, 'native');
    assert.ok(JSON.parse(fs.readFileSync(file, 'utf8')).entries[first.calibration!.key], 'rewritten');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
