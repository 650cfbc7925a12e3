// The WebGPU backend: TensorFlow.js's webgpu backend on Dawn, Chrome's WebGPU implementation, from
// npm's `webgpu` package (its dawn.node ships inside the tarball: nothing is downloaded at install).
// Dawn drives whatever GPU driver the machine has (Vulkan on Linux, Metal on macOS, D3D12 on
// Windows), so any vendor's GPU trains here without CUDA.
//
// A software adapter (SwiftShader, llvmpipe) computes correctly but slowly: it is used only when
// asked for (DEEPFAKE_BACKEND=webgpu on a machine without a GPU; the tests). Debian's chromium,
// which the set-up installs for the browser tests, ships SwiftShader's Vulkan driver; with no
// hardware adapter, a forced webgpu falls back to it.

import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';

/** SwiftShader's Vulkan driver as Debian's chromium installs it. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Where Linux Vulkan drivers register themselves (the loader's search path). */
const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];

/**
 * On Linux, the Vulkan drivers registered (VK_ICD_FILENAMES, or the loader's folders). Without one Dawn can only fail (and prints
 * warnings while doing so), so the probe stops here with the reason.
 */
export function vulkanDrivers(): string[] {
  if (process.env.VK_ICD_FILENAMES) return process.env.VK_ICD_FILENAMES.split(':');
  return ICD_DIRS.flatMap((d) => {
    try {
      return fs.readdirSync(d).filter((f) => f.endsWith('.json')).map((f) => `${d}/${f}`);
    } catch {
      return [];
    }
  });
}

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU rasteriser posing as a GPU (SwiftShader, llvmpipe, lavapipe, WARP). */
  software: boolean;
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number; maxComputeWorkgroupStorageSize: number };
}

export interface WebgpuProbe {
  available: boolean;
  reason: string;
  adapter?: AdapterInfo;
}

// What dawn.node hands us. Typed here (not with @webgpu/types' globals) so that the rest of the
// project does not see browser globals.
interface GpuAdapter {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string };
  isFallbackAdapter?: boolean;
  limits: Record<string, number>;
}
interface Gpu {
  requestAdapter(options?: { powerPreference?: string }): Promise<GpuAdapter | null>;
}
interface DawnModule {
  create(flags: string[]): Gpu;
  globals: Record<string, unknown>;
}

let dawn: DawnModule | null = null;
let registered = false;
/**
 * The probe that started the backend. A second probe in the same process (doctor after a command
 * chose webgpu) must not open a second Dawn instance beside the live one: that aborted the process
 * ("std::system_error: Invalid argument"). It reports the first answer instead.
 */
let started: WebgpuProbe | null = null;

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 200);
}

function isSoftware(a: GpuAdapter): boolean {
  const i = a.info ?? {};
  return a.isFallbackAdapter === true || /swiftshader|llvmpipe|lavapipe|softpipe|warp|microsoft basic render/i.test(`${i.architecture} ${i.device} ${i.description}`);
}

function describe(a: GpuAdapter): AdapterInfo {
  const i = a.info ?? {};
  return {
    vendor: i.vendor ?? '', architecture: i.architecture ?? '', device: i.device ?? '', description: i.description ?? '',
    software: isSoftware(a),
    limits: {
      maxBufferSize: a.limits.maxBufferSize ?? 0,
      maxStorageBufferBindingSize: a.limits.maxStorageBufferBindingSize ?? 0,
      maxComputeWorkgroupStorageSize: a.limits.maxComputeWorkgroupStorageSize ?? 0,
    },
  };
}

/** One line naming an adapter: "nvidia ampere (NVIDIA A100)" or "google swiftshader (software)". */
export function adapterLine(a: AdapterInfo): string {
  return `${[a.vendor, a.architecture].filter(Boolean).join(' ') || 'unknown adapter'}${a.description ? ` (${a.description})` : ''}${a.software ? ', software' : ''}`;
}

async function requestAdapter(): Promise<GpuAdapter | null> {
  const gpu = dawn!.create([]);
  (globalThis as { navigator?: unknown }).navigator = { gpu };
  return gpu.requestAdapter({ powerPreference: 'high-performance' });
}

/**
 * Find an adapter and, when it may be used, start TensorFlow.js's webgpu backend on it.
 * `allowSoftware`: accept SwiftShader and friends (a forced webgpu; tests). Leaves the engine on
 * whatever backend was current before (the caller settles on its choice).
 */
export async function probeWebgpu(allowSoftware: boolean): Promise<WebgpuProbe> {
  if (started) {
    if (!allowSoftware && started.adapter?.software)
      return { available: false, reason: `only a software adapter (${adapterLine(started.adapter)}): slower than the CPU; DEEPFAKE_BACKEND=webgpu uses it anyway`, adapter: started.adapter };
    return { ...started };
  }
  try {
    // By its resolved path: tslab resolves a bare require against the requiring file's folder
    // first, so a bare require of 'webgpu' from lib/ would return this very file in a notebook.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    dawn ??= require(require.resolve('webgpu')) as DawnModule;
  } catch (e) {
    return { available: false, reason: `Dawn (npm webgpu) failed to load: ${firstLine(e)}` };
  }
  if (process.platform === 'linux' && vulkanDrivers().length === 0) {
    if (!allowSoftware || !fs.existsSync(SWIFTSHADER_ICD))
      return { available: false, reason: `no Vulkan driver for a GPU (nothing in ${ICD_DIRS[0]})${fs.existsSync(SWIFTSHADER_ICD) ? '; DEEPFAKE_BACKEND=webgpu runs on SwiftShader (software, slow)' : ''}` };
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD; // read by the Vulkan loader when the instance starts
  }
  let adapter: GpuAdapter | null;
  try {
    adapter = await requestAdapter();
    // No GPU driver (or only a software one the system chose): SwiftShader, when it may be used.
    if ((!adapter || isSoftware(adapter)) && allowSoftware && !process.env.VK_ICD_FILENAMES && fs.existsSync(SWIFTSHADER_ICD)) {
      process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD; // read by the Vulkan loader when the next instance starts
      adapter = (await requestAdapter()) ?? adapter;
    }
  } catch (e) {
    releaseWebgpu();
    return { available: false, reason: `no adapter: ${firstLine(e)}` };
  }
  if (!adapter) {
    releaseWebgpu();
    return { available: false, reason: 'no GPU adapter (no Vulkan, Metal or D3D12 driver with a GPU; apt-get install libvulkan1 and a driver)' };
  }
  const info = describe(adapter);
  if (info.software && !allowSoftware) {
    releaseWebgpu();
    return { available: false, reason: `only a software adapter (${adapterLine(info)}): slower than the CPU; DEEPFAKE_BACKEND=webgpu uses it anyway`, adapter: info };
  }
  try {
    const previous = tf.getBackend();
    if (!registered) {
      // The backend reads these browser globals when it loads: Dawn's classes (GPUBufferUsage ...).
      Object.assign(globalThis, dawn.globals);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('@tensorflow/tfjs-backend-webgpu');
      registered = true;
    }
    applyWorkarounds();
    const ok = await tf.setBackend('webgpu');
    if (!ok) return { available: false, reason: `the webgpu backend failed to start on ${adapterLine(info)}`, adapter: info };
    // The same self-check as native: one small convolution end to end.
    const y = tf.tidy(() => tf.conv2d(tf.ones([1, 4, 4, 2]) as tf.Tensor4D, tf.ones([3, 3, 2, 1]) as tf.Tensor4D, 1, 'same').sum());
    const got = (await y.data())[0];
    y.dispose();
    if (previous) await tf.setBackend(previous);
    if (got !== 200) return { available: false, reason: `self-check failed on ${adapterLine(info)} (convolution gave ${got}, expected 200)`, adapter: info };
    started = { available: true, reason: `WebGPU on ${adapterLine(info)}`, adapter: info };
    return { ...started };
  } catch (e) {
    return { available: false, reason: `failed its self-check on ${adapterLine(info)}: ${firstLine(e)}`, adapter: info };
  }
}

/**
 * tfjs-backend-webgpu 4.22's split-K matrix product vectorises its loads without looking at
 * transposeB: [16, 4096] x [256, 4096]^T (the input gradient of the dense enc_expand layer) came
 * out with a relative error of 1.6, so every encoder gradient was wrong while the loss only
 * drifted. Program type 3 (the plain tiled product) is right (test/integration/webgpu.test.ts checks both).
 */
export function applyWorkarounds(on = true): void {
  tf.env().set('WEBGPU_MATMUL_PROGRAM_TYPE', on ? 3 : -1); // -1: the backend's own choice per shape
}

/**
 * Let the process exit: Dawn's instance keeps Node's event loop alive while `navigator` holds it.
 * The CLI calls this when a command ends; a notebook's kernel never needs to.
 */
export function releaseWebgpu(): void {
  delete (globalThis as { navigator?: unknown }).navigator;
}
