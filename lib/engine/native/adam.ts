// Adam with the same arithmetic and saved state as TensorFlow.js's AdamOptimizer, whose update on
// the native backend is one compiled pass per variable instead of ~12 element-wise kernels (each a
// full read and write of the weights). On other backends it is AdamOptimizer, unchanged.

import * as tf from '@tensorflow/tfjs';
import { NATIVE_BACKEND, NativeBackend } from './native-backend';
import { FUSED_ADAM, type FusedAdamAttrs } from './kernels';

// AdamOptimizer keeps these private; this subclass reads and fills them exactly as the parent
// does, so getWeights/setWeights (checkpoints) see the same state on every backend.
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
}

export class FusedAdamOptimizer extends tf.AdamOptimizer {
  /** The learning rate of the next updates (the schedule moves it every step). */
  setLearningRate(rate: number): void {
    this.learningRate = rate;
  }

  getLearningRate(): number {
    return this.learningRate;
  }

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    if (tf.getBackend() !== NATIVE_BACKEND) return super.applyGradients(variableGradients);
    const state = this as unknown as AdamState;
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const attrs: FusedAdamAttrs = {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      c1: 1 - state.accBeta1.dataSync()[0],
      c2: 1 - state.accBeta2.dataSync()[0],
    };
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name];
        state.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        state.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        const gradient = Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
        if (gradient == null) return;
        const m = state.accumulatedFirstMoment[i].variable;
        const v = state.accumulatedSecondMoment[i].variable;
        const backend = tf.backend();
        if (backend instanceof NativeBackend && backend.adamInPlace(value, m, v, gradient, attrs)) return;
        const [p1, m1, v1] = tf.engine().runKernel(FUSED_ADAM, { p: value, m, v, g: gradient }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
        m.assign(m1);
        v.assign(v1);
        value.assign(p1);
      });
      state.accBeta1.assign(tf.mul(state.accBeta1, this.beta1));
      state.accBeta2.assign(tf.mul(state.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }
}
