// `deepfake-lab doctor`: what this machine can do, in one report.

import * as tf from '@tensorflow/tfjs';
import { BACKENDS, initBackend, type BackendName, type BackendStatus } from '../engine/backend';
import { jupyterStatus, type JupyterStatus } from '../util/jupyter';
import { versions } from '../util/project';
import { ffmpegMissing, ffmpegVersion } from '../util/ffmpeg';
import { escapeHtml, htmlTable } from '../viz/display';

export interface DoctorReport {
  backend: BackendName;
  backends: Record<BackendName, BackendStatus>;
  /** One training step of a small conv net on the chosen backend: the gradients exist and are finite. */
  trainingCheck: { ok: boolean; ms: number; detail: string };
  versions: Record<string, string | null>;
  jupyter: JupyterStatus;
  /** ffmpeg for video (swap --in clip.mp4, samples --video, chapter 07). */
  video: { ffmpeg: string | null; reason: string };
}

/** Forward and backward pass of a strided conv + sub-pixel upscale: the ops the autoencoder trains with. */
async function trainingStep(): Promise<{ ok: boolean; detail: string }> {
  // Read back asynchronously: the webgpu backend has no synchronous read in Node.js.
  const checks = tf.tidy(() => {
    const x = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const w1 = tf.randomNormal([5, 5, 3, 8], 0, 0.1, 'float32', 2);
    const w2 = tf.randomNormal([3, 3, 8, 12], 0, 0.1, 'float32', 3);
    const loss = (a: tf.Tensor, b: tf.Tensor) => {
      const h = tf.leakyRelu(tf.conv2d(x, a as tf.Tensor4D, 2, 'same'), 0.1) as tf.Tensor4D;
      const y = tf.sigmoid(tf.depthToSpace(tf.conv2d(h, b as tf.Tensor4D, 1, 'same'), 2));
      return y.sub(x).abs().mean();
    };
    const grads = tf.grads(loss)([w1, w2]);
    return tf.stack(grads.flatMap((g) => [tf.all(tf.isFinite(g)).cast('float32'), g.abs().sum()]));
  });
  const v = await checks.data();
  checks.dispose();
  const finite = [0, 2].every((i) => v[i] === 1), nonzero = [1, 3].every((i) => v[i]! > 0);
  return finite && nonzero
    ? { ok: true, detail: 'conv, sub-pixel upscale and their gradients work' }
    : { ok: false, detail: 'gradients are not finite or are all zero' };
}

export async function runDoctor(): Promise<DoctorReport> {
  const choice = await initBackend({ probeAll: true });
  const t0 = performance.now();
  let trainingCheck: DoctorReport['trainingCheck'];
  try {
    trainingCheck = { ...(await trainingStep()), ms: 0 };
  } catch (e) {
    trainingCheck = { ok: false, detail: (e as Error).message.split('\n')[0], ms: 0 };
  }
  trainingCheck.ms = Math.round(performance.now() - t0);
  const missing = ffmpegMissing();
  const video = { ffmpeg: missing ? null : ffmpegVersion(), reason: missing ?? 'ffmpeg and ffprobe found' };
  return { backend: choice.backend, backends: choice.backends, trainingCheck, versions: versions(), jupyter: jupyterStatus(), video };
}

export function formatDoctor(r: DoctorReport): string {
  const lines = [`backend: ${r.backend}`];
  for (const name of BACKENDS) {
    const s = r.backends[name];
    lines.push(`  ${name.padEnd(14)} ${s.available ? 'yes' : 'no '}  ${s.reason}`);
  }
  lines.push(`training check: ${r.trainingCheck.ok ? 'ok' : 'FAILED'} (${r.trainingCheck.detail}, ${r.trainingCheck.ms} ms)`);
  lines.push(`jupyter: ${r.jupyter.found ? `found, kernel ${r.jupyter.kernel ?? 'missing'}, ${r.jupyter.reason}` : r.jupyter.reason}`);
  lines.push(`video: ${r.video.ffmpeg ? `ffmpeg ${r.video.ffmpeg}` : r.video.reason}`);
  lines.push('versions:');
  for (const [k, v] of Object.entries(r.versions)) lines.push(`  ${k.padEnd(30)} ${v ?? 'not installed'}`);
  return lines.join('\n');
}

/** The report as HTML tables, for the first notebook. */
export function doctorHtml(r: DoctorReport): string {
  const backends = htmlTable([
    ['backend', 'usable', 'why'],
    ...BACKENDS.map((n) => [n === r.backend ? `${n} ✔` : n, r.backends[n].available ? 'yes' : 'no', r.backends[n].reason]),
  ]);
  const vers = htmlTable([['package', 'version'], ...Object.entries(r.versions).map(([k, v]) => [k, v ?? 'not installed'])]);
  const check = `training check: <b>${r.trainingCheck.ok ? 'ok' : 'FAILED'}</b> (${escapeHtml(r.trainingCheck.detail)}, ${r.trainingCheck.ms} ms)`;
  return `<h4>Backends</h4>${backends}<p>${check}</p><h4>Versions</h4>${vers}`;
}
