// Where a training step spends its time, kernel by kernel: runs a few A+B steps of a preset
// (the speed benchmark's session) under tf.profile and sums each kernel's time. Used to decide what to make native, and
// reported by `bench --profile`.

import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { presetConfig, type PresetName } from '../model/config';
import type { HistoryEntry } from '../train/history';
import { runTraining } from '../train/run';
import { speedSession } from './train-speed';

const KernelTimeSchema = z.object({
  kernel: z.string(),
  /** Milliseconds per A+B step, summed over every call of this kernel. */
  msPerStep: z.number(),
  callsPerStep: z.number(),
  share: z.number(),
});
export type KernelTime = z.infer<typeof KernelTimeSchema>;

/** A profile as the benchmark's worker reports it (bench reads it back from the child's stdout). */
export const KernelProfileSchema = z.object({
  preset: z.string(),
  batch: z.number(),
  backend: z.string(),
  /** Wall time of a profiled step (profiling adds a little). */
  stepMs: z.number(),
  kernels: z.array(KernelTimeSchema),
});
export type KernelProfile = z.infer<typeof KernelProfileSchema>;

export async function profileTraining(preset: PresetName, batch: number, steps = 3): Promise<KernelProfile> {
  const session = await speedSession(presetConfig(preset), batch);
  const totals = new Map<string, { ms: number; calls: number }>();
  let wall = 0;
  try {
    await runTraining(session, {
      steps: steps + 1, // the first step warms up: first calls compile and allocate
      stream: null,
      step: async (s) => {
        let entry: HistoryEntry | undefined;
        const info = await tf.profile(async () => {
          entry = await s.trainStep();
        });
        if (s.step > 1) {
          wall += entry!.stepMs - entry!.prepMs;
          // Entries named `<op>__op` are op-level wrappers around kernels already listed, and so is
          // a tf.customGrad node ("unnamed scope": the ConvLeaky layer's op): skip them.
          for (const k of info.kernels.filter((k) => !k.name.endsWith('__op') && k.name !== 'unnamed scope')) {
            const t = totals.get(k.name) ?? { ms: 0, calls: 0 };
            t.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
            t.calls += 1;
            totals.set(k.name, t);
          }
        }
        return entry!;
      },
    });
  } finally {
    session.dispose();
  }
  const sum = [...totals.values()].reduce((s, t) => s + t.ms, 0);
  const kernels = [...totals.entries()]
    .map(([kernel, t]) => ({ kernel, msPerStep: t.ms / steps, callsPerStep: t.calls / steps, share: sum > 0 ? t.ms / sum : 0 }))
    .sort((a, b) => b.msPerStep - a.msPerStep);
  return { preset, batch, backend: tf.getBackend(), stepMs: wall / steps, kernels };
}

/** A short table: the top kernels and the rest lumped together. */
export function formatProfile(p: KernelProfile, top = 15): string {
  const lines = [`${p.preset} batch ${p.batch} on ${p.backend}: ${p.stepMs.toFixed(0)} ms per A+B step (profiled)`];
  for (const k of p.kernels.slice(0, top))
    lines.push(`  ${k.kernel.padEnd(26)} ${k.msPerStep.toFixed(1).padStart(8)} ms ${(100 * k.share).toFixed(1).padStart(5)}%  ${k.callsPerStep} calls`);
  const rest = p.kernels.slice(top);
  if (rest.length) {
    const ms = rest.reduce((s, k) => s + k.msPerStep, 0);
    lines.push(`  ${('(' + rest.length + ' others)').padEnd(26)} ${ms.toFixed(1).padStart(8)} ms`);
  }
  return lines.join('\n');
}
