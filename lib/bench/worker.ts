// One benchmark measurement in its own process, so a preset that exhausts wasm memory (the
// `original` model aborts there) cannot take the others down, and peak memory is per preset.
// Started by lib/commands/bench.ts: worker.ts <preset> <batch> <steps> [profile]; prints one JSON line.

import { initBackend } from '../backend';
import { isPresetName } from '../model/config';
import { profileTraining } from './kernel-profile';
import { measureTrainSpeed } from './train-speed';

async function main(): Promise<void> {
  const [preset, batch, steps, profile] = process.argv.slice(2);
  if (!isPresetName(preset)) throw new Error(`unknown preset ${preset}`);
  const choice = await initBackend();
  const speed = await measureTrainSpeed(preset, Number(batch), Number(steps));
  const peakRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  // Per-kernel times, after the timed steps so profiling cannot slow them.
  const kernels = profile === 'profile' ? await profileTraining(preset, Number(batch), 2) : undefined;
  process.stdout.write(JSON.stringify({ ...speed, backend: choice.backend, peakRssMB, profile: kernels }) + '\n');
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ error: String((e as Error).message ?? e).split('\n')[0] }) + '\n');
  process.exitCode = 1;
});
