// face-api (@vladmandic/face-api) loaded once, on the same TensorFlow.js engine as the rest of the
// program, with its model weights read from the installed package (never a network).

import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type * as FaceApiModule from '@vladmandic/face-api';
import { initBackend, wasmBinaryDir } from '../backend';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { NATIVE_BACKEND } from '../native/backend';

export type FaceApi = typeof FaceApiModule;
export type NetName = 'ssdMobilenetv1' | 'tinyFaceDetector' | 'faceLandmark68Net' | 'faceRecognitionNet';

/** Where the package keeps its weights (SSD, tiny detector, landmarks, recognition, ...). */
export function modelDir(): string {
  return path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
}

let api: FaceApi | null = null;
let faceBackend: Promise<string> | null = null;

// The native backend compiles the kernels training needs; face-api's nets (depthwise convolutions,
// batch norms, slices, clips) run faster on wasm, measured 1.87 against 0.66 photos/s. So when
// native is chosen, face-api runs on wasm and everything else stays native. Only plain arrays
// cross between them (images in, boxes and numbers out).
function faceBackendName(): Promise<string> {
  faceBackend ??= (async () => {
    const chosen = (await initBackend()).engineName;
    if (chosen !== NATIVE_BACKEND) return chosen;
    try {
      setWasmPaths(wasmBinaryDir());
      const ok = await tf.setBackend('wasm');
      return ok ? 'wasm' : chosen;
    } catch {
      return chosen;
    } finally {
      await tf.setBackend(chosen);
    }
  })();
  return faceBackend;
}

/** Run face-api work on the backend face-api is fastest on, then switch back. */
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
