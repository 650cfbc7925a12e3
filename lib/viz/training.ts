// Training you can watch, for chapter 03: train in short runs, and after each one save a
// checkpoint, show a fresh picture and print the loss, while the loss curve redraws as it goes.

import * as fs from 'fs';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { autoencodeRgb, decoderOf, type Autoencoder } from '../model/builder';
import { swapLightOf } from '../model/decoders/warping';
import { warpLayer, warpStages } from '../model/decoders/warping-layers';
import { tensorToImage } from '../util/image';
import { augmentFace } from '../train/augment';
import { subset, type FaceSet } from '../data/face-set';
import { facesToTensor } from '../data/face-set';
import { Rng } from '../util/rng';
import { median } from '../util/stats';
import { divergenceAdvice, runTraining } from '../train/run';
import { identityMaps, type TrainingSession } from '../train/session';
import type { TrainSettings } from '../train/settings';
import { liveLossChart } from './charts';
import { liveDisplay } from './display';
import { imageGrid } from '../util/image-grid';

export interface TrainBudget {
  /** Stop after this many minutes of training... */
  minutes: number;
  /** ...or this many more steps, whichever comes first. */
  steps: number;
}

export interface WatchOptions {
  /** A picture, a checkpoint and a loss line every this many steps... */
  everySteps: number;
  /** ...or this many seconds, whichever comes first (a slow backend still shows progress). */
  everySeconds?: number;
  /** Redraw the loss chart at most this often. */
  chartSeconds?: number;
  /** Where the loss lines go (console.log in a notebook). */
  log?: (line: string) => void;
}

/** What a watched run's picture may show: the checkpoint and preview grid just written, and the loss. */
export interface WatchPoint {
  step: number;
  loss: Record<string, number | null>;
  checkpoint: string;
  preview: string;
}

/**
 * Train `session` for the budget (runTraining, lib/train/run.ts), and every `everySteps` steps or
 * `everySeconds` seconds save a checkpoint, show a fresh picture (`picture` makes the PNG: the
 * preview grid, reconstructions...) and print the loss, while the loss curve redraws as it goes.
 * Re-running continues: the session resumes from its newest checkpoint. Each call is one
 * learning-rate cycle fitted to its budget (lib/train/schedule.ts): the minutes count training
 * steps only, so the rate has decayed when the budget is spent, however long the pictures took.
 * Returns nothing on purpose: a notebook cell ending in this call shows no result object.
 */
export async function trainWatched(
  session: TrainingSession,
  budget: TrainBudget,
  picture: (p: WatchPoint) => Promise<Uint8Array>,
  options: WatchOptions,
): Promise<void> {
  const { everySteps, everySeconds = 30, chartSeconds = 5, log = console.log } = options;
  const chart = liveLossChart(session.modelDir, { minSeconds: chartSeconds });
  const shown = liveDisplay();
  const started = Date.now(), from = session.step, target = session.step + budget.steps;
  session.beginCycle({ untilStep: target, seconds: budget.minutes * 60 }, { continueSaved: false });
  let shownAt = session.history.length;
  const r = await runTraining(session, {
    steps: target,
    seconds: budget.minutes * 60,
    save: false, // the callback saves: a checkpoint and a preview before every picture
    stream: null,
    onStep: chart.onStep,
    every: {
      steps: everySteps,
      seconds: everySeconds,
      call: async () => {
        const point: WatchPoint = { step: session.step, loss: lastLoss(session), checkpoint: await session.saveCheckpoint(), preview: await session.writePreview() };
        shown.png(await picture(point));
        const speed = median(session.history.slice(shownAt).map((e) => e.facesPerSecond));
        shownAt = session.history.length;
        if (session.diverged) return;
        const loss = Object.entries(point.loss).map(([id, l]) => `${id.toUpperCase()} ${l === null ? '-' : l.toFixed(4)}`).join(', ');
        log(`step ${point.step}: loss ${loss} (${speed.toFixed(1)} faces/s), checkpoint saved`);
      },
    },
  });
  if (r.diverged) log(divergenceAdvice(r.diverged, session.history.at(-1)?.lr));
  chart.finish();
  log(`trained ${session.step - from} steps in ${((Date.now() - started) / 1000).toFixed(0)} s; the model is at step ${session.step}`);
}

function lastLoss(session: TrainingSession): Record<string, number | null> {
  const e = session.history.at(-1);
  return Object.fromEntries(session.identities.map((id) => [id, e?.loss[id] ?? null]));
}

/** Faces (size x size RGB bytes) above what decoder `identity` paints from their codes; PNG bytes. */
export async function reconstructionGrid(ae: Autoencoder, faces: Uint8Array[], identity: string, label: string): Promise<Buffer> {
  const size = ae.config.inputSize;
  const x = facesToTensor(faces, size);
  const y = tf.tidy(() => tf.unstack(autoencodeRgb(ae, x, identity)) as tf.Tensor3D[]);
  const painted = [];
  for (const t of y) painted.push(await tensorToImage(t));
  tf.dispose([x, ...y]);
  const asImage = (data: Uint8Array) => ({ data, width: size, height: size });
  return imageGrid([...faces.map(asImage), ...painted], {
    columns: faces.length,
    captions: [...faces.map(() => label), ...faces.map(() => `decoder ${identity.toUpperCase()}`)],
  });
}

/**
 * How a warping decoder (lib/model/decoders/warping-layers.ts) makes its faces, for `faces` of anyone: the faces,
 * its person's photo (the texture) moved into their pose and expression, the light it puts on it
 * (grey = unchanged, brighter = lit up), and what it outputs. Rows of faces.length, the texture first.
 * `swap`: the faces are another person's, so the light is the swap's (ModelConfig.swapLight of it).
 */
export async function warpAnatomy(ae: Autoencoder, faces: Uint8Array[], identity: string, label: string, swap = true): Promise<Buffer> {
  const decoder = decoderOf(ae, identity);
  const layer = warpLayer(decoder);
  if (!layer) throw new Error(`decoder ${identity} paints its faces: the anatomy is for warping decoders (recipe "warp")`);
  const size = ae.config.inputSize;
  const x = facesToTensor(faces, size);
  const strength = swap ? swapLightOf(ae.config) : 1;
  const rows = tf.tidy(() => {
    const { moved, light, face } = warpStages(decoder, ae.encoder.predict(x) as tf.Tensor4D, strength);
    // Gains from 1/e to e drawn from black to white, 1 as mid-grey.
    const grey = light.log().div(2).add(0.5).clipByValue(0, 1);
    return [x, moved, grey, face].map((t) => tf.unstack(t) as tf.Tensor3D[]);
  });
  const texture = tf.tidy(() => (layer.textureSize === size ? layer.texture().clone() : tf.image.resizeBilinear(layer.texture(), [size, size])) as tf.Tensor3D);
  const blank = { data: new Uint8Array(size * size * 3).fill(40), width: size, height: size };
  const images = [];
  const who = identity.toUpperCase();
  const lightCaption = strength < 1 ? `light, ${strength} of it` : 'light';
  const captions = [`${who}'s photo`, ...faces.map(() => label), '', ...faces.map(() => 'photo, moved'), '', ...faces.map(() => lightCaption), '', ...faces.map(() => `decoder ${who}`)];
  for (const [r, row] of rows.entries()) {
    images.push(r === 0 ? await tensorToImage(texture) : blank);
    for (const t of row) images.push(await tensorToImage(t));
  }
  tf.dispose([x, texture, ...rows.flat()]);
  return imageGrid(images, { columns: faces.length + 1, captions });
}

/** A preview grid PNG (train's previews/step-N.png) enlarged `scale` times: 64 px faces are hard to judge. */
export async function enlargedPreview(file: string | null, scale = 2): Promise<Buffer> {
  if (!file) throw new Error('no preview grid was written (a model folder without faces to preview?)');
  const png = await fs.promises.readFile(file);
  const { width } = await sharp(png).metadata();
  return sharp(png).resize({ width: Math.round((width ?? 0) * scale), kernel: 'lanczos3' }).png().toBuffer();
}

/**
 * What training feeds the network, for the first `n` faces of a set: the warped inputs, the
 * targets, and the loss weights (the face mask from the landmarks, eyes and mouth weighted up;
 * white = the largest weight). Exactly the augmentation and maps a session with `settings` uses.
 */
export async function augmentationPreview(set: FaceSet, settings: Pick<TrainSettings, 'augment' | 'loss' | 'masks' | 'cropFraction'>, n = 6, seed = 1): Promise<Buffer> {
  const size = set.size;
  const some = subset(set, [...Array(Math.min(n, set.pixels.length)).keys()]);
  const maps = await identityMaps(some, settings);
  const k = some.pixels.length, px = size * size;
  const input = new Float32Array(k * px * 3), target = new Float32Array(k * px * 3), weight = new Float32Array(k * px);
  const rng = new Rng(seed);
  some.pixels.forEach((face, at) => augmentFace(face, size, rng, settings.augment, { input, target, maps: [{ src: maps[at].weight, dst: weight }], at }));
  const top = weight.reduce((m, v) => Math.max(m, v), 1e-6);
  const rgb = (f: Float32Array, i: number) => ({ data: Uint8Array.from(f.subarray(i * px * 3, (i + 1) * px * 3), (v) => Math.round(v * 255)), width: size, height: size });
  const grey = (i: number) => ({ data: Uint8Array.from({ length: px * 3 }, (_, j) => Math.round((weight[i * px + Math.floor(j / 3)] / top) * 255)), width: size, height: size });
  const idx = [...Array(k).keys()];
  return imageGrid([...idx.map((i) => rgb(input, i)), ...idx.map((i) => rgb(target, i)), ...idx.map(grey)], {
    columns: k,
    captions: [...idx.map(() => 'input (warped)'), ...idx.map(() => 'target'), ...idx.map(() => 'loss weight')],
  });
}
