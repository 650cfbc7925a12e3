// `deepfake-lab train`: train (or continue training) an autoencoder on two face folders.

import * as path from 'path';
import { describeChoice, initBackend } from '../backend';
import { isPresetName, presetConfig, PRESETS } from '../model/config';
import { runTraining } from '../train/run';
import { TrainingSession } from '../train/session';
import { intOption, numberOption, requireString, UsageError, type Command } from './command';

const USAGE =
  'deepfake-lab train --a DIR --b DIR --model DIR [--preset lite] [--steps N] [--batch N] [--seed S] ' +
  '[--size PX] [--lr X] [--crop F] [--ssim W] [--mask] [--checkpoint-every N] [--preview-every N] [--json]';

/** An optional number within [min, max], or a UsageError. */
export const trainCommand: Command = {
  summary: 'train the shared encoder and the two decoders (continues from the checkpoint in --model)',
  usage: USAGE,
  options: {
    a: { type: 'string' },
    b: { type: 'string' },
    model: { type: 'string' },
    preset: { type: 'string' },
    steps: { type: 'string' },
    batch: { type: 'string' },
    seed: { type: 'string' },
    size: { type: 'string' },
    lr: { type: 'string' },
    crop: { type: 'string' },
    ssim: { type: 'string' },
    mask: { type: 'boolean', default: false },
    'checkpoint-every': { type: 'string' },
    'preview-every': { type: 'string' },
  },
  async run(values) {
    const a = requireString(values, 'a', USAGE);
    const b = requireString(values, 'b', USAGE);
    const modelDir = requireString(values, 'model', USAGE);
    const presetName = typeof values.preset === 'string' ? values.preset : 'lite';
    if (!isPresetName(presetName)) throw new UsageError(`--preset must be one of ${Object.keys(PRESETS).join(', ')}, got ${presetName}`);
    const steps = intOption(values, 'steps', 1000, 0);
    const batchSize = intOption(values, 'batch', 16, 1, 4096);
    const seed = intOption(values, 'seed', 1);
    const size = intOption(values, 'size', PRESETS[presetName].inputSize, 16, 1024);
    const learningRate = numberOption(values, 'lr', 5e-5, 1e-9, 1);
    const cropFraction = numberOption(values, 'crop', 1, 0.05, 1);
    const ssimWeight = numberOption(values, 'ssim', 0, 0, 100);
    const checkpointEvery = intOption(values, 'checkpoint-every', 100, 1);
    const previewEvery = intOption(values, 'preview-every', 100, 0);

    const choice = await initBackend();
    const log = (line: string) => process.stderr.write(`train: ${line}\n`);
    log(describeChoice(choice));
    let session: TrainingSession;
    try {
      session = await TrainingSession.open({
        modelDir,
        data: { a, b },
        config: presetConfig(presetName, { inputSize: size, mask: values.mask === true }),
        settings: {
          batchSize,
          seed,
          cropFraction,
          adam: { learningRate, beta1: 0.5, beta2: 0.999 },
          loss: { ssimWeight, maskWeighted: false },
        },
        log,
      });
    } catch (e) {
      // Unusable input (a missing or empty folder, a config that cannot be built): exit 2.
      throw new UsageError((e as Error).message.split('\n')[0]);
    }

    // SIGINT/SIGTERM: finish the step, save a checkpoint, exit cleanly.
    const stop = new AbortController();
    const onSignal = (sig: NodeJS.Signals) => {
      log(`${sig}: saving a checkpoint after this step`);
      stop.abort();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const r = await runTraining(session, { steps, checkpointEvery, previewEvery, signal: stop.signal });
      const result = {
        steps: r.steps,
        trained: r.trained,
        lossA: r.loss.a,
        lossB: r.loss.b,
        facesPerSecond: r.facesPerSecond,
        prepMsPerStep: r.prepMsPerStep,
        stepMs: r.stepMs,
        backend: choice.backend,
        checkpoint: r.checkpoint,
        preview: r.preview,
        resumedFrom: session.resumedFrom,
        stopped: r.stopped,
        model: path.resolve(modelDir),
      };
      const text = [
        `${r.stopped ? 'stopped' : 'done'} at step ${r.steps} (${r.trained} trained now) on ${choice.backend}`,
        `loss a ${r.loss.a?.toFixed(4) ?? '-'}  b ${r.loss.b?.toFixed(4) ?? '-'}  ${r.facesPerSecond.toFixed(2)} faces/s`,
        `checkpoint ${r.checkpoint}`,
        `preview ${r.preview}`,
      ].join('\n');
      return { result, text };
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      session.dispose();
    }
  },
};
