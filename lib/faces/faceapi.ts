// face-api (@vladmandic/face-api) loaded once, on the same TensorFlow.js engine as the rest of the
// program, with its model weights read from the installed package (never a network).

import * as path from 'path';
import type * as FaceApiModule from '@vladmandic/face-api';
import { initBackend } from '../backend';

export type FaceApi = typeof FaceApiModule;
export type NetName = 'ssdMobilenetv1' | 'tinyFaceDetector' | 'faceLandmark68Net' | 'faceRecognitionNet';

/** Where the package keeps its weights (SSD, tiny detector, landmarks, recognition, ...). */
export function modelDir(): string {
  return path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
}

let api: FaceApi | null = null;

/** face-api with the given nets loaded (each loaded once per process). */
export async function faceApi(...nets: NetName[]): Promise<FaceApi> {
  await initBackend();
  // The node-wasm build uses the @tensorflow/tfjs instance we initialised (the plain node build
  // would require tfjs-node, which is optional here).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  api ??= require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
  for (const name of nets) {
    const net = api.nets[name];
    if (!net.isLoaded) await net.loadFromDisk(modelDir());
  }
  return api;
}
