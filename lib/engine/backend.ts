// Picks and initialises the fastest TensorFlow.js backend that works on this machine.
//
// Order, fastest first: tfjs-node-gpu (only with a usable CUDA GPU), webgpu (any vendor's GPU
// through Dawn, lib/engine/webgpu.ts; never a software adapter unless forced), native (this project's
// compiled kernels on oneDNN, built by the set-up; see lib/engine/native/native-backend.ts), tfjs-node, wasm
// (SIMD, local binaries), cpu (pure JavaScript, too slow to train). tfjs-node and tfjs-node-gpu are
// never dependencies of this project: their install downloads libtensorflow from Google's
// storage, which fails offline. A user who has them installed gets them automatically.
//
// A GPU is not always faster than the CPU (an integrated one may lose to many cores), so when a
// GPU backend works, a short training calibration against the first CPU backend decides, once per
// machine (lib/engine/calibrate.ts; cached). A CPU-only machine never calibrates.
//
// DEEPFAKE_BACKEND=<name> forces one backend and fails with a clear message when it is unusable.
// DEEPFAKE_CALIBRATE=0 skips the calibration: a working GPU backend is then chosen unmeasured.

import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
// A file, not the folder: tslab's loader does not resolve a folder to its index.ts.
import { registerProjectKernels } from './extra-kernels/index';
import { loadAddon } from './native/addon';
import { NATIVE_BACKEND, registerNativeBackend } from './native/native-backend';
import { probeWebgpu, releaseWebgpu, type AdapterInfo } from './webgpu';
import { calibrate, describeCalibration, type CalibrateOptions, type CalibrationResult } from './calibrate';

export const BACKENDS = ['tfjs-node-gpu', 'webgpu', 'native', 'tfjs-node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];
/** The backends that run on a GPU: chosen over the CPU only when a calibration says they are faster. */
const GPU_BACKENDS: readonly BackendName[] = ['tfjs-node-gpu', 'webgpu'];

export interface BackendStatus {
  available: boolean;
  /** Why it is (not) available, and for the ones not chosen, why. */
  reason: string;
  /** webgpu: the adapter found (vendor, architecture, limits), even when it is not used. */
  adapter?: AdapterInfo;
  /** Training faces per second in the calibration, for the backends it compared. */
  facesPerSecond?: number;
}

export interface BackendChoice {
  /** The backend every tensor now lives on. */
  backend: BackendName;
  /** The TensorFlow.js engine name behind it ('tensorflow', 'wasm', 'cpu'). */
  engineName: string;
  backends: Record<BackendName, BackendStatus>;
  /** The GPU-versus-CPU measurement behind the choice, when a GPU backend worked. */
  calibration?: CalibrationResult;
}

export class BackendUnavailableError extends Error {}

const INSTALL_HINT: Record<'tfjs-node-gpu' | 'tfjs-node', string> = {
  'tfjs-node-gpu':
    'npm install @tensorflow/tfjs-node-gpu on a Linux machine with CUDA 11.2 and cuDNN 8.1',
  'tfjs-node': 'npm install @tensorflow/tfjs-node (downloads libtensorflow from Google at install)',
};

function isInstalled(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

/** First line of an error, for one-line reasons. */
function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0].slice(0, 200);
}

/** Directory holding the wasm binaries inside node_modules; never a CDN. */
export function wasmBinaryDir(): string {
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + path.sep;
}

// tfjs-node and tfjs-node-gpu both register an engine backend named 'tensorflow' when required;
// loading one of them is a one-way door for the process, so the probe remembers what it loaded.
let loadedNodePackage: 'tfjs-node-gpu' | 'tfjs-node' | null = null;

function loadNodePackage(pkg: 'tfjs-node-gpu' | 'tfjs-node'): void {
  if (loadedNodePackage) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(`@tensorflow/${pkg}`);
  loadedNodePackage = pkg;
}

interface NodeBackendFlags {
  isGPUPackage?: boolean;
  isUsingGpuDevice?: boolean;
}

async function probeNodeGpu(): Promise<BackendStatus> {
  if (!isInstalled('@tensorflow/tfjs-node-gpu'))
    return { available: false, reason: `not installed (${INSTALL_HINT['tfjs-node-gpu']})` };
  try {
    loadNodePackage('tfjs-node-gpu');
    if (loadedNodePackage !== 'tfjs-node-gpu')
      return { available: false, reason: 'tfjs-node was loaded first in this process' };
    const ok = await tf.setBackend('tensorflow');
    // The GPU package silently runs on the CPU when CUDA is missing: ask the binding itself.
    const flags = tf.backend() as unknown as NodeBackendFlags;
    if (!ok || !flags.isUsingGpuDevice)
      return { available: false, reason: 'installed, but no usable CUDA 11.2 + cuDNN 8.1 GPU was found' };
    return { available: true, reason: 'CUDA GPU in use' };
  } catch (e) {
    return { available: false, reason: `installed but failed to load: ${firstLine(e)}` };
  }
}

async function probeNode(): Promise<BackendStatus> {
  // tfjs-node-gpu without a GPU still runs TensorFlow on the CPU: as fast as tfjs-node.
  if (loadedNodePackage === 'tfjs-node-gpu') {
    const ok = await tf.setBackend('tensorflow');
    return ok
      ? { available: true, reason: 'TensorFlow C library on the CPU (through tfjs-node-gpu)' }
      : { available: false, reason: 'tfjs-node-gpu loaded but its CPU backend failed to start' };
  }
  if (!isInstalled('@tensorflow/tfjs-node'))
    return { available: false, reason: `not installed (${INSTALL_HINT['tfjs-node']})` };
  try {
    loadNodePackage('tfjs-node');
    const ok = await tf.setBackend('tensorflow');
    return ok
      ? { available: true, reason: 'TensorFlow C library on the CPU' }
      : { available: false, reason: 'installed but its backend failed to start' };
  } catch (e) {
    return { available: false, reason: `installed but failed to load: ${firstLine(e)}` };
  }
}

async function probeNative(): Promise<BackendStatus> {
  if (process.env.DEEPFAKE_NATIVE === '0') return { available: false, reason: 'turned off (DEEPFAKE_NATIVE=0)' };
  const load = loadAddon();
  if (load.ok === false) return { available: false, reason: load.reason };
  try {
    registerNativeBackend(load.addon);
    if (!(await tf.setBackend(NATIVE_BACKEND))) return { available: false, reason: 'native backend failed to initialise' };
    // One small convolution end to end: a library that loads but cannot run is caught here.
    const y = tf.tidy(() => tf.conv2d(tf.ones([1, 4, 4, 2]) as tf.Tensor4D, tf.ones([3, 3, 2, 1]) as tf.Tensor4D, 1, 'same').sum());
    const got = (await y.data())[0];
    y.dispose();
    // 4x4 outputs, each summing its in-bounds 3x3 neighbours over 2 channels: 2 * (4*4 + 8*6 + 4*9).
    if (got !== 200) return { available: false, reason: `self-check failed (convolution gave ${got}, expected 200)` };
    const { onednn, threads } = load.addon.info();
    return { available: true, reason: `compiled kernels on oneDNN ${onednn}, ${threads} threads` };
  } catch (e) {
    return { available: false, reason: `failed its self-check: ${firstLine(e)}` };
  }
}

async function probeWasm(): Promise<BackendStatus> {
  try {
    setWasmPaths(wasmBinaryDir());
    const ok = await tf.setBackend('wasm');
    if (!ok) return { available: false, reason: 'wasm backend failed to initialise' };
    const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
    return { available: true, reason: `WebAssembly${simd ? ' with SIMD' : ' without SIMD'}, one thread` };
  } catch (e) {
    return { available: false, reason: `failed to initialise: ${firstLine(e)}` };
  }
}

async function probeCpu(): Promise<BackendStatus> {
  const ok = await tf.setBackend('cpu');
  return ok
    ? { available: true, reason: 'pure JavaScript; fine for inference, far too slow to train' }
    : { available: false, reason: 'failed to initialise' };
}

const PROBES: Record<BackendName, (force: BackendName | undefined, options: InitBackendOptions) => Promise<BackendStatus>> = {
  'tfjs-node-gpu': probeNodeGpu,
  webgpu: (force, options) => probeWebgpu(force === 'webgpu' || options.allowSoftwareWebgpu === true),
  native: probeNative,
  'tfjs-node': probeNode,
  wasm: probeWasm,
  cpu: probeCpu,
};

const ENGINE_NAME: Record<BackendName, string> = {
  'tfjs-node-gpu': 'tensorflow',
  webgpu: 'webgpu',
  native: NATIVE_BACKEND,
  'tfjs-node': 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

export function isBackendName(s: string): s is BackendName {
  return (BACKENDS as readonly string[]).includes(s);
}

export interface InitBackendOptions {
  /** A backend to force; default: process.env.DEEPFAKE_BACKEND, else the fastest that works. */
  force?: BackendName;
  /** Probe every backend, even those slower than the chosen one (for `doctor`). */
  probeAll?: boolean;
  /**
   * Let a software WebGPU adapter (SwiftShader) compete in the calibration as if it were a GPU;
   * it loses. For tests of the automatic choice on machines without a GPU.
   */
  allowSoftwareWebgpu?: boolean;
  /** What the calibration times (default: a small convolutional autoencoder; training callers pass trainingWorkload) and its cache file (data/cache/). */
  calibration?: CalibrateOptions;
}

let current: { options: InitBackendOptions; choice: Promise<BackendChoice> } | null = null;

/**
 * Initialise the fastest working backend once per process and report the choice. Later calls
 * return the same choice. A later call that forces another backend than the one running throws
 * (with the reason): switching engines under live models and tensors would strand them, so that
 * takes a new process. Throws BackendUnavailableError when a forced backend cannot be used; after
 * a failed start a later call may choose again.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendChoice> {
  const previous = current;
  const running = previous ? await previous.choice.catch(() => null) : null;
  if (previous && running) {
    if (options.force !== undefined && options.force !== running.backend)
      throw new BackendUnavailableError(
        `the ${running.backend} backend is already running in this process; ${options.force} needs a new process (DEEPFAKE_BACKEND=${options.force})`,
      );
    if (!options.probeAll || previous.options.probeAll) return running;
    // doctor after a choice: probe the others too; the same request settles on the same backend.
    options = { ...options, force: previous.options.force };
  } else if (previous && options.force === previous.options.force && !!options.probeAll === !!previous.options.probeAll) {
    return previous.choice; // the same request that failed fails the same way
  }
  const choice = choose(options);
  current = { options, choice };
  return choice;
}

async function choose(options: InitBackendOptions): Promise<BackendChoice> {
  const envForce = process.env.DEEPFAKE_BACKEND?.trim();
  if (envForce && !isBackendName(envForce))
    throw new BackendUnavailableError(
      `DEEPFAKE_BACKEND=${envForce} is not a backend; use one of ${BACKENDS.join(', ')}`,
    );
  const force = options.force ?? (envForce as BackendName | undefined);
  registerProjectKernels();

  const backends = {} as Record<BackendName, BackendStatus>;
  const measure = process.env.DEEPFAKE_CALIBRATE !== '0';
  let chosen: BackendName | null = null;
  // Working GPU backends wait here for the first working CPU backend, to be measured against it.
  const gpus: BackendName[] = [];
  let calibration: CalibrationResult | undefined;
  for (const name of BACKENDS) {
    if (chosen && !options.probeAll) {
      backends[name] = { available: false, reason: `not probed: ${chosen} was chosen first` };
      continue;
    }
    if (force && name !== force && !options.probeAll) {
      backends[name] = { available: false, reason: `not probed: DEEPFAKE_BACKEND=${force}` };
      continue;
    }
    const status = await PROBES[name](force, options);
    backends[name] = status;
    if (!status.available || chosen) continue;
    if (force) {
      if (force === name) chosen = name;
    } else if (GPU_BACKENDS.includes(name)) {
      if (!measure) chosen = name;
      else gpus.push(name);
    } else if (gpus.length) {
      const order = [...gpus, name];
      calibration = await calibrate(order.map((n) => ({ name: n, engine: ENGINE_NAME[n], detail: backends[n].reason })), options.calibration);
      for (const n of order) backends[n].facesPerSecond = calibration.facesPerSecond[n];
      chosen = calibration.fastest as BackendName;
    } else {
      chosen = name;
    }
  }
  chosen ??= gpus[0] ?? null; // no CPU backend worked to compare with (cpu always does)
  if (!chosen) {
    throw new BackendUnavailableError(
      force
        ? `DEEPFAKE_BACKEND=${force} is unavailable: ${backends[force].reason}`
        : 'no TensorFlow.js backend could be initialised',
    );
  }
  // Probing may have switched the engine around; settle on the chosen one. A probed but unused
  // WebGPU instance would keep the process from exiting.
  if (chosen !== 'webgpu') releaseWebgpu();
  await tf.setBackend(ENGINE_NAME[chosen]);
  await tf.ready();
  const measured = calibration ? `; calibration: ${describeCalibration(calibration, Object.keys(calibration.facesPerSecond))}` : '';
  for (const name of BACKENDS) {
    const s = backends[name];
    if (name === chosen) s.reason = `chosen: ${s.reason}${s.facesPerSecond !== undefined ? measured : ''}`;
    else if (s.available) s.reason = `available but not chosen (${force ? 'DEEPFAKE_BACKEND=' + force : 'slower than ' + chosen}${s.facesPerSecond !== undefined ? measured : ''}): ${s.reason}`;
  }
  return { backend: chosen, engineName: ENGINE_NAME[chosen], backends, ...(calibration ? { calibration } : {}) };
}

/** One line for logs: "backend wasm (WebAssembly with SIMD, one thread)". */
export function describeChoice(choice: BackendChoice): string {
  return `backend ${choice.backend} (${choice.backends[choice.backend].reason.replace(/^chosen: /, '')})`;
}
