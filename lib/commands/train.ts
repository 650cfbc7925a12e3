// `deepfake-lab train`: train (or continue training) an autoencoder on two face folders.

import * as path from 'path';
import { trainingWorkload } from '../benchmark/train-speed';
import { describeChoice, initBackend } from '../engine/backend';
import { isPresetName, presetConfig, PRESETS } from '../model/config';
import { writeTimelapse } from '../lab/timelapse';
import { previewFrames } from '../train/preview';
import { divergenceAdvice, runTraining } from '../train/run';
import { TrainingSession } from '../train/session';
import { DEFAULT_RECIPE, resolveRecipe } from '../train/recipes';
import { ensureWritableDir, intOption, numberOption, requireString, UsageError, type Command } from './command';
import { precisionOption, RECIPE_OPTIONS, RECIPE_USAGE, recipeOption, recipeOverrides } from './recipe-options';

const USAGE =
  'deepfake-lab train --a DIR --b DIR --model DIR [--recipe NAME] [--steps N] [--minutes M] [--seed S] ' +
  `${RECIPE_USAGE} [--preset NAME] [--precision fp32|bf16] [--checkpoint-every N] [--preview-every N] [--timelapse] [--timelapse-format gif|webp] [--json]`;

export const trainCommand: Command = {
  summary: 'train the shared encoder and the two decoders (continues from the checkpoint in --model)',
  usage: USAGE,
  options: {
    a: { type: 'string' },
    b: { type: 'string' },
    model: { type: 'string' },
    recipe: { type: 'string' },
    preset: { type: 'string' },
    steps: { type: 'string' },
    minutes: { type: 'string' },
    seed: { type: 'string' },
    'checkpoint-every': { type: 'string' },
    'preview-every': { type: 'string' },
    precision: { type: 'string' },
    timelapse: { type: 'boolean' },
    'timelapse-format': { type: 'string' },
    ...RECIPE_OPTIONS,
  },
  async run(values) {
    const a = requireString(values, 'a', USAGE);
    const b = requireString(values, 'b', USAGE);
    const modelDir = requireString(values, 'model', USAGE);
    const recipe = recipeOption(typeof values.recipe === 'string' ? values.recipe : DEFAULT_RECIPE);
    // A budget in steps (the step to reach), minutes of training steps, or both (whichever ends first).
    const minutes = values.minutes === undefined ? undefined : numberOption(values, 'minutes', 0, 0.001, 7 * 24 * 60);
    const steps = values.steps === undefined && minutes !== undefined ? undefined : intOption(values, 'steps', 1000, 0);
    const checkpointEvery = intOption(values, 'checkpoint-every', 100, 1);
    const previewEvery = intOption(values, 'preview-every', 100, 0);
    const overrides = { ...recipeOverrides(values), seed: values.seed === undefined ? undefined : intOption(values, 'seed', 1) };
    const resolved = resolveRecipe(recipe, overrides);
    const precision = precisionOption(values);
    const timelapseFormat = values['timelapse-format'] ?? 'gif';
    if (timelapseFormat !== 'gif' && timelapseFormat !== 'webp') throw new UsageError(`--timelapse-format must be gif or webp, got ${String(timelapseFormat)}`);
    // --preset swaps the recipe's model for one of the plain presets (same settings otherwise).
    let config = resolved.config;
    if (typeof values.preset === 'string') {
      if (!isPresetName(values.preset)) throw new UsageError(`--preset must be one of ${Object.keys(PRESETS).join(', ')}, got ${values.preset}`);
      config = presetConfig(values.preset, { inputSize: overrides.inputSize ?? PRESETS[values.preset].inputSize, mask: overrides.mask ?? false });
      resolved.settings.recipe = { name: recipe, overrides: { ...resolved.settings.recipe?.overrides, preset: values.preset } };
    }

    ensureWritableDir('train', modelDir);
    const choice = await initBackend({ calibration: { workload: trainingWorkload() } });
    const log = (line: string) => process.stderr.write(`train: ${line}\n`);
    log(describeChoice(choice));
    let session: TrainingSession;
    try {
      session = await TrainingSession.open({
        modelDir,
        data: { a, b },
        config,
        settings: resolved.settings,
        precision,
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
    // The learning-rate schedule spans this run: up to --steps or for --minutes (a resumed run keeps its cycle).
    const seconds = minutes === undefined ? undefined : minutes * 60;
    if (steps === undefined || session.step < steps) session.beginCycle({ untilStep: steps, seconds });
    const used = session.settings.recipe;
    log(`recipe ${used ? used.name : '(none: a model from before recipes)'}${used && Object.keys(used.overrides).length ? ` with ${JSON.stringify(used.overrides)}` : ''}; ` +
      `batch ${session.settings.batchSize}, crop ${session.settings.cropFraction}, peak learning rate ${session.cycle?.peak ?? session.settings.adam.learningRate}`);
    try {
      const r = await runTraining(session, { steps, seconds, checkpointEvery, previewEvery, signal: stop.signal });
      // Every preview this model folder kept (earlier runs too), as one animation.
      const timelapse = values.timelapse === true ? await writeTimelapse(session.modelDir, { format: timelapseFormat }) : null;
      if (values.timelapse === true && !timelapse) {
        // Not a failure: the training is done and saved; there is just nothing to animate yet.
        const kept = previewFrames(session.modelDir).length;
        log(`no timelapse: ${kept} preview${kept === 1 ? '' : 's'} kept, an animation needs two or more (--preview-every N writes one every N steps)`);
      }
      const result = {
        steps: r.steps,
        trained: r.trained,
        lossA: r.loss.a,
        lossB: r.loss.b,
        facesPerSecond: r.facesPerSecond,
        prepMsPerStep: r.prepMsPerStep,
        stepMs: r.stepMs,
        backend: choice.backend,
        precision: session.settings.precision,
        recipe: session.settings.recipe,
        checkpoint: r.checkpoint,
        preview: r.preview,
        timelapse: timelapse?.file ?? null,
        resumedFrom: session.resumedFrom,
        stopped: r.stopped,
        diverged: r.diverged,
        model: path.resolve(modelDir),
      };
      const text = [
        ...(r.diverged ? [divergenceAdvice(r.diverged, session.history.at(-1)?.lr)] : []),
        `${r.stopped ? 'stopped' : 'done'} at step ${r.steps} (${r.trained} trained now) on ${choice.backend}`,
        `loss a ${r.loss.a?.toFixed(4) ?? '-'}  b ${r.loss.b?.toFixed(4) ?? '-'}  ${r.facesPerSecond.toFixed(2)} faces/s`,
        `checkpoint ${r.checkpoint}`,
        `preview ${r.preview}`,
        ...(timelapse ? [`timelapse ${timelapse.file} (${timelapse.frames} frames, steps ${timelapse.steps[0]} to ${timelapse.steps.at(-1)})`] : []),
      ].join('\n');
      return { result, text };
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      session.dispose();
    }
  },
};
