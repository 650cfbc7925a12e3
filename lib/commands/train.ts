// `deepfake-lab train`: train (or continue training) an autoencoder on two face folders.

import * as path from 'path';
import { trainingWorkload } from '../benchmark/train-speed';
import { describeChoice, initBackend } from '../engine/backend';
import { presetConfig } from '../model/config';
import { writeTimelapse } from '../lab/timelapse';
import { previewFrames } from '../train/preview';
import { divergenceAdvice, runTraining } from '../train/run';
import { TrainingSession } from '../train/session';
import { DEFAULT_RECIPE, resolveRecipe, type ResolvedRecipe } from '../train/recipes';
import { PRESETS } from '../model/config';
import { ensureWritableDir, defineCommand, UsageError } from './command';
import { choice, flag, int, num, text, type ValuesOf } from './options';
import { PRECISION_OPTION, RECIPE_OPTIONS, recipeOverrides } from './recipe-options';
import { recipeNames } from '../train/recipes';

const OPTIONS = {
  a: text('DIR', 'aligned faces of identity A', { required: true }),
  b: text('DIR', 'aligned faces of identity B', { required: true }),
  model: text('DIR', 'model folder: checkpoints, previews, the loss history (training continues from it)', { required: true }),
  recipe: choice(recipeNames(), 'the model and its training settings (lib/train/recipes.ts)', DEFAULT_RECIPE),
  preset: choice(Object.keys(PRESETS) as (keyof typeof PRESETS)[], "a plain model preset instead of the recipe's model (same settings otherwise)"),
  steps: int('N', 'the step to reach (default 1000, or none with --minutes: whichever ends first)', { min: 0 }),
  minutes: num('M', 'minutes of training steps', { min: 0.001, max: 7 * 24 * 60 }),
  seed: int('S', 'random seed', { min: 0 }),
  'checkpoint-every': int('N', 'save a checkpoint every N steps', { min: 1, default: 100 }),
  'preview-every': int('N', 'write a preview every N steps (0: none)', { min: 0, default: 100 }),
  precision: PRECISION_OPTION,
  timelapse: flag('write every kept preview as one animation at the end'),
  'timelapse-format': choice(['gif', 'webp'], 'the animation format', 'gif'),
  ...RECIPE_OPTIONS,
};
export type TrainValues = ValuesOf<typeof OPTIONS>;

/** The model and settings a train command line asks for (test/unit/train-recipes.test.ts compares them with the notebooks'). */
export function trainRecipe(values: TrainValues): ResolvedRecipe {
  const overrides = { ...recipeOverrides(values), seed: values.seed };
  const resolved = resolveRecipe(values.recipe, overrides);
  // --preset swaps the recipe's model for one of the plain presets (same settings otherwise).
  if (values.preset !== undefined) {
    resolved.config = presetConfig(values.preset, { inputSize: overrides.inputSize ?? PRESETS[values.preset].inputSize, mask: overrides.mask ?? false });
    resolved.settings.recipe = { name: values.recipe, overrides: { ...resolved.settings.recipe?.overrides, preset: values.preset } };
  }
  return resolved;
}

export const trainCommand = defineCommand({
  summary: 'train the shared encoder and the two decoders (continues from the checkpoint in --model)',
  options: OPTIONS,
  async run(values) {
    const { a, b, model: modelDir, minutes, precision } = values;
    // A budget in steps (the step to reach), minutes of training steps, or both (whichever ends first).
    const steps = values.steps ?? (minutes === undefined ? 1000 : undefined);
    const checkpointEvery = values['checkpoint-every'];
    const previewEvery = values['preview-every'];
    const timelapseFormat = values['timelapse-format'];
    const resolved = trainRecipe(values);
    const config = resolved.config;

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
      const timelapse = values.timelapse ? await writeTimelapse(session.modelDir, { format: timelapseFormat }) : null;
      if (values.timelapse && !timelapse) {
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
});
