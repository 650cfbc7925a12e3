// Recipes, the learning-rate schedule and the landmark masks of training: what a recipe resolves
// to, that a checkpoint keeps the recipe and its overrides, that cycles continue or restart as
// documented, and that the mask target is faceMask of each crop's landmarks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync } from 'fs';
import * as path from 'path';
import { initBackend } from '../../lib/engine/backend';
import { LANDMARKS_CACHE, loadCropLandmarks } from '../../lib/faces/crop-landmarks';
import { faceMask, DEFAULT_MASK } from '../../lib/faces/mask';
import type { Point } from '../../lib/faces/types';
import { toFacePixels } from '../../lib/util/image';
import { NO_AUGMENT } from '../../lib/train/augment';
import { disposeBatch, FaceSampler } from '../../lib/train/batches';
import { faceMaps } from '../../lib/train/face-maps';
import { loadFaces } from '../../lib/data/face-set';
import { DEFAULT_LOSS } from '../../lib/train/loss';
import { DEFAULT_RECIPE, RECIPES, recipeNames, resolveRecipe } from '../../lib/train/recipes';
import { runTraining } from '../../lib/train/run';
import { cycleProgress, learningRateAt, nextCycle, type LrSchedule } from '../../lib/train/schedule';
import { TrainingSession } from '../../lib/train/session';
import { Rng } from '../../lib/util/rng';
import { PROJECT_ROOT } from '../helpers/shared';
import { alignedFolder, syntheticFaces, tinyConfig } from '../train-fixtures';
import { type OpenOptions } from '../../lib/train/session';
import type { TrainSettings } from '../../lib/train/settings';
import { QualityJudge } from '../../lib/benchmark/quality-judge';
import { benchCommand } from '../../lib/commands/bench';
import { trainCommand } from '../../lib/commands/train';

const COSINE: LrSchedule = { shape: 'cosine', warmup: 0.1, floor: 0.1, restart: 0.5 };

test('the cosine schedule warms up linearly, peaks, and decays to its floor', () => {
  assert.equal(learningRateAt(COSINE, 1e-3, 0), 1e-4);
  assert.ok(Math.abs(learningRateAt(COSINE, 1e-3, 0.05) - 5.5e-4) < 1e-12, 'half-way through the warm-up');
  assert.ok(Math.abs(learningRateAt(COSINE, 1e-3, 0.1) - 1e-3) < 1e-12, 'the peak when the warm-up ends');
  assert.ok(Math.abs(learningRateAt(COSINE, 1e-3, 0.55) - 5.5e-4) < 1e-12, 'half-way down the cosine');
  assert.ok(Math.abs(learningRateAt(COSINE, 1e-3, 1) - 1e-4) < 1e-12, 'the floor at the end');
  assert.ok(Math.abs(learningRateAt(COSINE, 1e-3, 7) - 1e-4) < 1e-12, 'and after it');
  assert.equal(learningRateAt({ ...COSINE, shape: 'constant' }, 1e-3, 0.5), 1e-3);
});

test('a cycle ends at its step budget or its time budget, whichever comes first; the next starts at restart x the peak', () => {
  const c = nextCycle(COSINE, 1e-3, null, 100, { untilStep: 200, seconds: 60 });
  assert.equal(c.peak, 1e-3);
  assert.equal(cycleProgress(c, 150), 0.5);
  c.elapsedSeconds = 45;
  assert.equal(cycleProgress(c, 150), 0.75, 'time is further along than steps here');
  const next = nextCycle(COSINE, 1e-3, c, 200, { untilStep: 400 });
  assert.equal(next.index, 1);
  assert.equal(next.peak, 5e-4);
  assert.equal(next.startStep, 200);
});

test('every recipe resolves to a valid model and complete settings; overrides win and are recorded', () => {
  assert.ok(recipeNames().includes(DEFAULT_RECIPE));
  for (const name of recipeNames()) {
    const r = resolveRecipe(name);
    assert.equal(r.settings.recipe?.name, name);
    assert.ok(r.settings.batchSize > 0 && r.settings.adam.learningRate > 0, name);
    assert.equal(r.config.inputSize % 16, 0, name);
  }
  const o = resolveRecipe(DEFAULT_RECIPE, { learningRate: 3e-4, cropFraction: 0.8, ssimWeight: 0.5, batchSize: 8 });
  assert.equal(o.settings.adam.learningRate, 3e-4);
  assert.equal(o.settings.cropFraction, 0.8);
  assert.equal(o.settings.loss.ssimWeight, 0.5);
  assert.equal(o.settings.batchSize, 8);
  assert.deepEqual(o.settings.recipe?.overrides, { learningRate: 3e-4, cropFraction: 0.8, ssimWeight: 0.5, batchSize: 8 });
  // The recipe itself is untouched by resolving it with overrides.
  assert.notEqual(resolveRecipe(DEFAULT_RECIPE).settings.adam.learningRate, 3e-4);
  // bench --quality --precision bf16: the precision reaches the settings (and the cache key with them).
  assert.equal(resolveRecipe(DEFAULT_RECIPE).settings.precision, 'fp32');
  assert.equal(resolveRecipe(DEFAULT_RECIPE, { precision: 'bf16' }).settings.precision, 'bf16');
  assert.equal(RECIPES.classic.settings.cropFraction, 0.75);
});

test('the checkpoint keeps the recipe and its overrides, and a resumed run keeps them whatever it is given', async () => {
  await initBackend({ force: 'wasm' });
  const data = await syntheticFaces(8, 16);
  const r = resolveRecipe('classic', { learningRate: 2e-3, batchSize: 2 });
  const first = await TrainingSession.open({ modelDir: data.model, data: { a: data.a, b: data.b }, config: tinyConfig(), settings: r.settings });
  first.beginCycle({ untilStep: 4 });
  await runTraining(first, { steps: 2, checkpointEvery: 100, previewEvery: 0, stream: null });
  first.dispose();
  const other = resolveRecipe('masked');
  const again = await TrainingSession.open({ modelDir: data.model, data: { a: data.a, b: data.b }, config: tinyConfig(), settings: other.settings });
  assert.equal(again.step, 2);
  assert.deepEqual(again.settings.recipe, { name: 'classic', overrides: { learningRate: 2e-3, batchSize: 2 } });
  assert.equal(again.settings.adam.learningRate, 2e-3);
  assert.equal(again.settings.loss.maskWeighted, false, 'the checkpoint\'s loss, not the new recipe\'s');
  // The same budget continues the saved cycle; a larger one starts a gentler new one.
  assert.equal(again.beginCycle({ untilStep: 4 }).index, 0);
  const next = again.beginCycle({ untilStep: 10 });
  assert.equal(next.index, 1);
  assert.equal(next.peak, 2e-3 * again.settings.schedule.restart);
  again.dispose();
});

test('the schedule moves the learning rate every step and the history records it', async () => {
  await initBackend({ force: 'wasm' });
  const data = await syntheticFaces(8, 16);
  const s = await TrainingSession.open({
    modelDir: data.model, data: { a: data.a, b: data.b }, config: tinyConfig(),
    settings: { batchSize: 2, adam: { learningRate: 1e-3 }, schedule: COSINE },
  });
  s.beginCycle({ untilStep: 10 });
  await runTraining(s, { steps: 10, checkpointEvery: 100, previewEvery: 0, stream: null });
  const lrs = s.history.map((e) => e.lr!);
  assert.equal(lrs[0], 1e-4, 'step 1 at the floor (warm-up starts there)');
  assert.ok(Math.abs(Math.max(...lrs) - 1e-3) < 1e-12, 'the peak is reached');
  assert.ok(lrs[9] < lrs[5] && lrs[5] < lrs[2], `decaying: ${lrs.map((x) => x.toExponential(1)).join(' ')}`);
  s.dispose();
});

test('the training mask of each face is faceMask of its own landmarks, moved into the model frame', async () => {
  await initBackend({ force: 'wasm' });
  const { a } = await syntheticFaces(6, 128);
  const landmarks = alignedFolder(a, 6, 128);
  const size = 32, crop = 0.75;
  const set = await loadFaces(a, { size, cropFraction: crop });
  const { maps, ellipses } = await faceMaps(set, crop, (await loadCropLandmarks(a, set.files)).byFile, { ...DEFAULT_LOSS, maskWeighted: true });
  assert.equal(ellipses, 0);
  for (let i = 0; i < set.files.length; i++) {
    const lm = toFacePixels(landmarks.get(set.files[i])!, { width: 128, height: 128 }, size, crop);
    const want = await faceMask(lm, size, size, { feather: Math.max(0.6, (DEFAULT_MASK.feather * size) / (128 * crop)) });
    assert.deepEqual(maps[i].mask, want, set.files[i]);
  }
  // Faces differ, so their masks do (a fixed ellipse would not).
  assert.notDeepEqual(maps[0].mask, maps[5].mask);
  // Without augmentation the batch's mask target is exactly the face's mask.
  const sampler = new FaceSampler(set.pixels, size, undefined, maps);
  const batch = sampler.next(1, new Rng(1), NO_AUGMENT);
  const index = sampler.saveState().order[0];
  const got = batch.mask!.dataSync();
  const want = maps[index].mask;
  assert.ok(want.every((v, j) => Math.abs(v - got[j]) < 1e-6), 'batch mask equals the face mask');
  disposeBatch(batch);
});

test('eye and mouth priority weights lie on the eyes and mouth; the background weight outside the face', async () => {
  await initBackend({ force: 'wasm' });
  // 256 px crops seen at 64 px through the centre 0.75: the scale of real training.
  const { a } = await syntheticFaces(2, 256);
  const landmarks = alignedFolder(a, 2, 256);
  const set = await loadFaces(a, { size: 64, cropFraction: 0.75 });
  const loss = { ...DEFAULT_LOSS, maskWeighted: true, background: 0.2, eyeWeight: 2, mouthWeight: 1 };
  const { maps } = await faceMaps(set, 0.75, landmarks, loss);
  const lm = toFacePixels(landmarks.get(set.files[0])!, { width: 256, height: 256 }, 64, 0.75);
  const at = ([x, y]: Point) => maps[0].weight[Math.round(y) * 64 + Math.round(x)];
  const eye: Point = [(lm[36][0] + lm[39][0]) / 2, (lm[36][1] + lm[39][1]) / 2];
  const mouth: Point = [(lm[48][0] + lm[54][0]) / 2, (lm[51][1] + lm[57][1]) / 2];
  assert.ok(at(eye) > 2.7 && at(eye) <= 3, `eye weight ${at(eye)}`);
  assert.ok(at(mouth) > 1.8 && at(mouth) <= 2, `mouth weight ${at(mouth)}`);
  assert.ok(Math.abs(at(lm[30]) - 1) < 0.05, `the nose tip: plain face weight (${at(lm[30])})`);
  assert.ok(Math.abs(at([1, 1]) - 0.2) < 1e-6, 'a corner: the background weight');
});

test('a folder without alignments.json gets its landmarks found once and cached beside the crops', async () => {
  await initBackend();
  const { a } = await syntheticFaces(2, 64);
  const files = ['face_000.png', 'face_001.png'];
  const first = await loadCropLandmarks(a, files);
  assert.equal(first.source, 'detected');
  assert.ok(existsSync(path.join(a, LANDMARKS_CACHE)));
  // The cache answers the second time: edit it and see the edit come back.
  const cache = JSON.parse(readFileSync(path.join(a, LANDMARKS_CACHE), 'utf8'));
  cache.faces['face_000.png'].landmarks[0] = [1.5, 2.5];
  writeFileSync(path.join(a, LANDMARKS_CACHE), JSON.stringify(cache));
  const second = await loadCropLandmarks(a, files, { detect: false });
  assert.deepEqual(second.byFile.get('face_000.png')![0], [1.5, 2.5]);
  assert.equal(second.byFile.get('face_001.png')!.length, 68);
});

test('one set of defaults: train and bench --quality start from DEFAULT_RECIPE (chapter 03, which the demo runs, is checked where it trains: test/integration/notebook-chapters-03-07.test.ts)', async (t) => {
  // Each command is run in-process without --recipe up to the point where it opens its training
  // session; what it would train (the model and the settings) must be the default recipe's.
  const expected = resolveRecipe(DEFAULT_RECIPE);
  const { a, b, root } = await syntheticFaces(8, 32);
  alignedFolder(a, 8, 32);
  alignedFolder(b, 8, 32);
  const opened: OpenOptions[] = [];
  class Opened extends Error {}
  t.mock.method(TrainingSession, 'open', async (o: OpenOptions) => {
    opened.push(o);
    throw new Opened('stop before training');
  });
  // bench --quality describes the real faces first; that is not what is under test here.
  t.mock.method(QualityJudge, 'create', async () => ({ dispose: () => undefined }) as unknown as QualityJudge);

  // (train reports a session that cannot open as a usage error with its message)
  // The values as the command line parses them (its option declarations fill in the defaults).
  const { commandValues } = await import('../../lib/cli');
  await assert.rejects(trainCommand.run(commandValues('train', ['--a', a, '--b', b, '--model', path.join(root, 'train-model')])), /stop before training/);
  await assert.rejects(benchCommand.run(commandValues('bench', ['--quality', '--a', a, '--b', b, '--cache', path.join(root, 'cache'), '--out', path.join(root, 'out')])), Opened);
  assert.equal(opened.length, 2, 'train and bench --quality each opened one session');
  const [train, bench] = opened;
  assert.deepEqual(train.config, expected.config, 'train builds the default recipe\'s model');
  assert.deepEqual(train.settings, expected.settings, 'train trains with the default recipe\'s settings');
  assert.deepEqual(bench.config, expected.config, 'bench --quality builds the default recipe\'s model');
  // bench pins the seed (--seed, 1) and the precision (--precision, fp32) as overrides; the rest is the recipe's.
  const { recipe: benchRecipe, ...benchSettings } = bench.settings as TrainSettings;
  const { recipe: _recipe, ...defaults } = expected.settings;
  assert.equal(benchRecipe?.name, DEFAULT_RECIPE, 'bench --quality names the default recipe');
  assert.deepEqual(benchSettings, defaults, 'bench --quality trains with the default recipe\'s settings');
});

test("the CLI's model and training defaults are the notebooks': train with no recipe flags resolves what chapter 03's configuration cell does", async () => {
  const { commandValues } = await import('../../lib/cli');
  const { trainRecipe } = await import('../../lib/commands/train');
  const ts = await import('typescript');
  // The CLI: `deepfake-lab train --a A --b B --model M`, parsed through its option declarations.
  const cli = trainRecipe(commandValues('train', ['--a', 'A', '--b', 'B', '--model', 'M']) as Parameters<typeof trainRecipe>[0]);
  // The notebook: its configuration cell's recipe and overrides (the demo profile), and the call it makes with them.
  const nb = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'notebooks', '03-autoencoder.ipynb'), 'utf8')) as { cells: Array<{ cell_type: string; source: string[] }> };
  const cell = nb.cells.map((c) => c.source.join('')).find((s) => s.includes('const CONFIG = {'))!;
  assert.ok(cell, 'the configuration cell');
  assert.match(cell, /const RECIPE = resolveRecipe\(CONFIG\.recipe, CONFIG\.overrides\);/);
  assert.match(cell, /const MODEL = CONFIG\.tinyModel \? .* : RECIPE\.config;/);
  const field = (name: string) => cell.match(new RegExp(`^  ${name}: (.*),$`, 'm'))?.[1];
  const code = ts.transpileModule(`return { recipe: ${field('recipe')}, overrides: ${field('overrides')}, tinyModel: ${field('tinyModel')} };`, {}).outputText;
  // Evaluated as the notebook runs by default (DEEPFAKE_NB_PROFILE unset: demo, SMALL false).
  const config = new Function('DEFAULT_RECIPE', 'SMALL', code)(DEFAULT_RECIPE, false) as { recipe: typeof DEFAULT_RECIPE; overrides: object; tinyModel: boolean };
  assert.equal(config.tinyModel, false);
  const notebook = resolveRecipe(config.recipe, config.overrides);
  assert.deepEqual(cli.config, notebook.config);
  assert.deepEqual(cli.settings, notebook.settings);
  // And both are the default recipe with nothing on top.
  assert.deepEqual(cli.settings.recipe, { name: DEFAULT_RECIPE, overrides: {} });
});
