// Kernels and gradients this project adds to TensorFlow.js so its models train on every backend.
// Each one is tested against the cpu backend in test/unit/kernels.test.ts.

import * as tf from '@tensorflow/tfjs';
import { conv2DBackpropFilterWasmConfig } from './conv2d-backprop-filter-wasm';
import { depthToSpaceGradConfig } from './depth-to-space-grad';
import { leakyReluGradConfig } from './leaky-relu-grad';

let registered = false;

/** Register once per process; safe to call again. Gradients apply to every backend. */
export function registerProjectKernels(): void {
  if (registered) return;
  registered = true;
  if (!tf.getKernel(conv2DBackpropFilterWasmConfig.kernelName, 'wasm')) tf.registerKernel(conv2DBackpropFilterWasmConfig);
  if (!tf.getGradient(depthToSpaceGradConfig.kernelName)) tf.registerGradient(depthToSpaceGradConfig);
  // Replaces TensorFlow.js's own (same values; one kernel on native).
  tf.registerGradient(leakyReluGradConfig);
}
