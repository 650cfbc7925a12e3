// One benchmark measurement in its own process, so a preset that exhausts wasm memory (the
// `original` model aborts there) cannot take the others down, and peak memory is per preset.
// Started by lib/commands/bench.ts: worker.ts <preset> <batch> <steps> [profile] [fp32|bf16] [warm-up seconds]; prints one JSON line.

import { initBackend } from '../engine/backend';
import { isPresetName } from '../model/config';
import { isPrecision, largestConvolution, setPrecision } from '../engine/native/precision';
import { profileTraining } from './kernel-profile';
import { measureTrainSpeed } from './train-speed';

async function main(): Promise<void> {
  const [preset, batch, steps, profile, precisionArg, warmupSeconds] = process.argv.slice(2);
  if (!isPresetName(preset)) throw new Error(`unknown preset ${preset}`);
  const precision = precisionArg || 'fp32';
  if (!isPrecision(precision)) throw new Error(`unknown precision ${precision}`);
  const choice = await initBackend();
  setPrecision(precision);
  const speed = await measureTrainSpeed(preset, Number(batch), Number(steps), 1, Number(warmupSeconds ?? 0) || 0);
  // oneDNN's implementation of the step's largest convolution (null off the native backend).
  const largest = largestConvolution();
  const peakRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  // Per-kernel times, after the timed steps so profiling cannot slow them.
  const kernels = profile === 'profile' ? await profileTraining(preset, Number(batch), 2) : undefined;
  process.stdout.write(JSON.stringify({
    ...speed, backend: choice.backend, precision, convImplementation: largest?.forward ?? null,
    convImplementations: largest ? { forward: largest.forward, backwardData: largest.backwardData, backwardWeights: largest.backwardWeights } : null,
    peakRssMB, profile: kernels,
  }) + '\n');
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ error: String((e as Error).message ?? e).split('\n')[0] }) + '\n');
  process.exitCode = 1;
});
