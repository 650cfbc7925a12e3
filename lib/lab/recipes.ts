// Two (or more) recipes side by side, for chapter 03: each trains briefly on the same faces from
// the same seed, in a model folder of its own, and is scored as it goes on the same pixels as
// `bench --quality` (the swap against the ground truth with the built-in people; reconstruction of
// held-out faces otherwise). A learner sees what a recipe changes: the pictures and the curve
// (lib/viz/recipes.ts shows them). Running it again continues every model for another budget.

import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { SCORING_FRAME, toScoringFrame } from '../benchmark/quality-judge';
import type { CropGeometry } from '../faces/template';
import { psnr, readScalar } from '../metrics/pixel-metrics';
import { autoencodeRgb, swapDecodeRgb, type Autoencoder } from '../model/builder';
import type { ModelConfig } from '../model/config';
import { loadTruthFaces } from '../samples/truth';
import { facesToTensor } from '../data/face-set';
import { loadIdentityFaces } from '../data/identity-faces';
import { resolveRecipe, type RecipeName, type RecipeOverrides } from '../train/recipes';
import { runTraining } from '../train/run';
import { TrainingSession } from '../train/session';

export interface CompareOptions {
  recipes: RecipeName[];
  faces: { a: string; b: string };
  /** Each recipe trains in <modelRoot>/<recipe>. */
  modelRoot: string;
  /** Minutes of training steps per recipe per call. */
  minutes: number;
  /** Ground-truth pairs (the built-in people's truth folder) and the faces' crop geometry; null: score reconstructions. */
  truth?: { dir: string; geometry: CropGeometry } | null;
  overrides?: RecipeOverrides;
  /** Replace each recipe's model (e.g. the tiny one for quick runs); default: the recipe's own. */
  model?: (recipeModel: ModelConfig) => ModelConfig;
  /** Scores per run. Default 6. */
  points?: number;
  log?: (line: string) => void;
}

export interface RecipeTrack {
  recipe: string;
  /** The recipe's model folder. */
  modelDir: string;
  /** Training minutes of this call (from 0) and step at each score. */
  minutes: number[];
  steps: number[];
  /** dB: the swap against the truth, A->B and B->A (or reconstruction of held-out A and B). */
  a: number[];
  b: number[];
  preview: string;
  facesPerSecond: number;
}

export interface RecipeComparison {
  tracks: RecipeTrack[];
  /** What the dB measure is. */
  measure: 'swap vs truth' | 'reconstruction';
  /** What the recipes trained on (and were scored against), for the side-by-side view. */
  faces: { a: string; b: string };
  truth: { dir: string; geometry: CropGeometry } | null;
}

/** Faces to score with, in the scoring frame (targets) and in the model's frame (inputs). */
async function scoringSet(o: CompareOptions, size: number, crop: number, holdout: number) {
  if (o.truth) {
    const load = (s: number, c: number) => loadTruthFaces(o.truth!.dir, { geometry: o.truth!.geometry, size: s, cropFraction: c });
    const [inputs, targets] = [await load(size, crop), await load(SCORING_FRAME.size, SCORING_FRAME.cropFraction)];
    // A's face goes in, B's truth is what it should become (and the other way round).
    return { inA: facesToTensor(inputs.a, size), inB: facesToTensor(inputs.b, size), wantA: facesToTensor(targets.b, SCORING_FRAME.size), wantB: facesToTensor(targets.a, SCORING_FRAME.size), swap: true };
  }
  const held = async (dir: string, s: number, c: number) => (await loadIdentityFaces(dir, s, { cropFraction: c, holdout })).heldOut.pixels;
  return {
    inA: facesToTensor(await held(o.faces.a, size, crop), size), inB: facesToTensor(await held(o.faces.b, size, crop), size),
    wantA: facesToTensor(await held(o.faces.a, SCORING_FRAME.size, SCORING_FRAME.cropFraction), SCORING_FRAME.size),
    wantB: facesToTensor(await held(o.faces.b, SCORING_FRAME.size, SCORING_FRAME.cropFraction), SCORING_FRAME.size),
    swap: false,
  };
}

async function meanPsnr(ae: Autoencoder, input: tf.Tensor4D, want: tf.Tensor4D, identity: string, crop: number, swap: boolean): Promise<number> {
  if (input.shape[0] === 0) return NaN;
  const decode = swap ? swapDecodeRgb : autoencodeRgb;
  return readScalar(tf.tidy(() => psnr(toScoringFrame(decode(ae, input, identity), crop), want).mean()));
}

/** Train every recipe for `minutes` (continuing any earlier run), scoring as it goes. */
export async function compareRecipes(o: CompareOptions): Promise<RecipeComparison> {
  const log = o.log ?? (() => undefined);
  const points = o.points ?? 6;
  const tracks: RecipeTrack[] = [];
  let measure: RecipeComparison['measure'] = 'reconstruction';
  for (const name of o.recipes) {
    const { config, settings } = resolveRecipe(name, o.overrides);
    const model = o.model ? o.model(config) : config;
    const modelDir = path.join(o.modelRoot, name);
    const session = await TrainingSession.open({ modelDir, data: o.faces, config: model, settings });
    const crop = session.settings.cropFraction;
    const set = await scoringSet(o, session.ae.config.inputSize, crop, session.settings.holdout);
    measure = set.swap ? 'swap vs truth' : 'reconstruction';
    const [toA, toB] = set.swap ? ['b', 'a'] : ['a', 'b'];
    const track: RecipeTrack = { recipe: name, modelDir, minutes: [], steps: [], a: [], b: [], preview: '', facesPerSecond: 0 };
    const score = async (at: number) => {
      track.minutes.push(Math.round(at * 100) / 100);
      track.steps.push(session.step);
      track.a.push(await meanPsnr(session.ae, set.inA, set.wantA, toA, crop, set.swap));
      track.b.push(await meanPsnr(session.ae, set.inB, set.wantB, toB, crop, set.swap));
    };
    try {
      const cycle = session.beginCycle({ seconds: o.minutes * 60 }, { continueSaved: false });
      const from = session.step;
      await score(0);
      for (let k = 1; k <= points; k++) {
        await runTraining(session, { seconds: (o.minutes * 60 * k) / points - cycle.elapsedSeconds, save: false, stream: null });
        await score((o.minutes * k) / points);
      }
      track.facesPerSecond = ((session.step - from) * session.settings.batchSize * session.identities.length) / Math.max(1e-9, cycle.elapsedSeconds);
      await session.saveCheckpoint();
      track.preview = await session.writePreview();
      log(`${name}: ${session.step - from} steps in ${o.minutes} min (${track.facesPerSecond.toFixed(0)} faces/s), ${measure} ${track.a.at(-1)!.toFixed(2)} / ${track.b.at(-1)!.toFixed(2)} dB`);
    } finally {
      tf.dispose([set.inA, set.inB, set.wantA, set.wantB]);
      session.dispose();
    }
    tracks.push(track);
  }
  return { tracks, measure, faces: o.faces, truth: o.truth ?? null };
}

