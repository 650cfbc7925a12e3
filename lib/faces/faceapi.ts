// face-api (@vladmandic/face-api) loaded once, on the same TensorFlow.js engine as the rest of the
// program, with its model weights read from the installed package (never a network).

import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type * as FaceApiModule from '@vladmandic/face-api';
import { initBackend, wasmBinaryDir } from '../engine/backend';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { loadAddon } from '../engine/native/addon';
import { NATIVE_BACKEND, registerNativeBackend } from '../engine/native/native-backend';

export type FaceApi = typeof FaceApiModule;

/**
 * A tensor face-api holds (its weights, its outputs) as this program's tensor type. face-api
 * declares them with its bundled copy of the TensorFlow.js types; at run time they are tensors of
 * the one engine this program uses.
 */
export const fromFaceApi = <T extends tf.Tensor>(t: unknown): T => t as T;
export type NetName = 'ssdMobilenetv1' | 'tinyFaceDetector' | 'faceLandmark68Net' | 'faceRecognitionNet';

/** Where the package keeps its weights (SSD, tiny detector, landmarks, recognition, ...). */
export function modelDir(): string {
  return path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
}

let api: FaceApi | null = null;
let wasmReady: Promise<boolean> | null = null;

/**
 * Where face-api's nets run beside native (or webgpu): 'native' (the default) or 'wasm'.
 * Its depthwise convolutions, batch norms, clips, slices, pads, pools and resizes are compiled, and
 * extraction measured 3.98x wasm on face-api's demo photos (8.73 against 2.19 photos/s, bench) with
 * the same boxes and landmarks; wasm stays as the fallback (DEEPFAKE_FACE_BACKEND=wasm, or when the
 * addon is missing). Other main backends (wasm, cpu, tfjs-node) run face-api themselves.
 */
export type FaceBackend = 'native' | 'wasm';
let preferred: FaceBackend = process.env.DEEPFAKE_FACE_BACKEND === 'wasm' ? 'wasm' : 'native';

/** Choose where face-api runs beside native from now on (bench and tests compare the two). */
export function setFaceBackend(b: FaceBackend): void {
  preferred = b;
}

function wasmAvailable(chosen: string): Promise<boolean> {
  wasmReady ??= (async () => {
    try {
      setWasmPaths(wasmBinaryDir());
      return await tf.setBackend('wasm');
    } catch {
      return false;
    } finally {
      await tf.setBackend(chosen);
    }
  })();
  return wasmReady;
}

async function faceBackendName(): Promise<string> {
  const chosen = (await initBackend()).engineName;
  if (chosen !== NATIVE_BACKEND && chosen !== 'webgpu') return chosen;
  if (preferred === 'native') {
    if (chosen === NATIVE_BACKEND) return chosen;
    // face-api reads tensors synchronously (dataSync, arraySync), which the webgpu backend cannot
    // do in Node.js (it needs a browser's OffscreenCanvas): beside webgpu it runs on native.
    const load = process.env.DEEPFAKE_NATIVE === '0' ? null : loadAddon();
    if (load?.ok) {
      registerNativeBackend(load.addon);
      return NATIVE_BACKEND;
    }
  }
  return (await wasmAvailable(chosen)) ? 'wasm' : chosen;
}

/** Run face-api work on the backend chosen for it, then switch back. */
export async function onFaceBackend<T>(fn: () => Promise<T>): Promise<T> {
  const target = await faceBackendName();
  const previous = tf.getBackend();
  if (target === previous) return fn();
  await tf.setBackend(target);
  try {
    return await fn();
  } finally {
    await tf.setBackend(previous);
  }
}

/** The backend face-api's nets run on now (for reports). */
export function faceBackendInUse(): Promise<string> {
  return faceBackendName();
}

/** face-api with the given nets loaded (each loaded once per process). */
export async function faceApi(...nets: NetName[]): Promise<FaceApi> {
  await initBackend();
  // The node-wasm build uses the @tensorflow/tfjs instance we initialised (the plain node build
  // would require tfjs-node, which is optional here).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = (api ??= require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi);
  await onFaceBackend(async () => {
    for (const name of nets) {
      const net = loaded.nets[name];
      if (!net.isLoaded) await net.loadFromDisk(modelDir());
    }
  });
  return loaded;
}
