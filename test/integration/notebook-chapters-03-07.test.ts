// Chapters 03-07 (autoencoder, latent space, swapping, spotting fakes, video) run top to bottom through Jupyter with the
// small settings, on inputs this file makes itself with the library: built-in samples, rendered and
// extracted into a temporary DATA root, so it does not depend on chapters 01-02's notebooks.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { executeNotebook, NotebookFailed } from '../../lib/util/notebook-runner';
import { writeSamples } from '../../lib/samples/dataset';
import { extractFaces } from '../../lib/faces/extract';
import { latestCheckpoint } from '../../lib/train/checkpoint';
import { LABEL_PREFIX, readProvenance } from '../../lib/swap/provenance';
import { PROJECT_ROOT } from '../helpers/shared';
import { assertClean, checkPage, playVideos } from '../helpers/browser';
import { probeOutput } from '../../lib/util/ffmpeg';
import { needs } from '../helpers/strict';
import { readCheckpointInfo } from '../../lib/train/checkpoint';
import { DEFAULT_RECIPE, resolveRecipe } from '../../lib/train/recipes';
import { TrainingSession } from '../../lib/train/session';
import { initBackend } from '../../lib/engine/backend';
import { decodeImage } from '../../lib/util/image';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deepfake-lab-ch03-07-'));
const DATA = path.join(tmp, 'data');
const MODELS = path.join(tmp, 'models');
const OUT = path.join(tmp, 'executed');
const SWAPS = path.join(tmp, 'output', 'swaps', 'builtin');
const ENV = { DEEPFAKE_NB_PROFILE: 'small', DEEPFAKE_DATA_ROOT: DATA, DEEPFAKE_MODEL_ROOT: MODELS };
const CHAPTERS = ['03-autoencoder', '04-latent-space', '05-swapping', '06-spotting-fakes', '07-video'];

interface Output { output_type: string; name?: string; text?: string | string[]; data?: Record<string, unknown> }
const joined = (v: unknown) => (Array.isArray(v) ? v.join('') : String(v ?? ''));
function outputs(file: string): Output[] {
  const nb = JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: Array<{ outputs?: Output[] }> };
  return nb.cells.flatMap((c) => c.outputs ?? []);
}
const stdout = (outs: Output[]) => outs.filter((o) => o.name === 'stdout').map((o) => joined(o.text)).join('');
const pngs = (outs: Output[]) => outs.filter((o) => o.data && 'image/png' in o.data).length;
const htmls = (outs: Output[]) => outs.flatMap((o) => (o.data && 'text/html' in o.data ? [joined(o.data['text/html'])] : []));

/** The before/after picture of chapter 05's "labelled photos" cell (base64 PNG) in an executed notebook. */
function shownSwap(file: string): string {
  const nb = JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: Array<{ outputs?: Output[] }> };
  const cell = nb.cells.find((c) => stdout(c.outputs ?? []).includes('labelled photos in'));
  const png = cell?.outputs?.find((o) => o.data && 'image/png' in o.data)?.data?.['image/png'];
  assert.ok(png, `${file}: the cell that writes the swaps shows a picture`);
  return joined(png);
}

/** Train the model in `modelDir` `steps` more steps, as chapter 03's training cell does when re-run; returns the new step. */
async function trainMore(modelDir: string, steps: number): Promise<number> {
  await initBackend();
  const session = await TrainingSession.open({ modelDir, data: { a: path.join(DATA, 'builtin', 'a', 'faces'), b: path.join(DATA, 'builtin', 'b', 'faces') } });
  try {
    session.beginCycle({ untilStep: session.step + steps });
    for (let i = 0; i < steps; i++) await session.trainStep();
    await session.saveCheckpoint();
    return session.step;
  } finally {
    session.dispose();
  }
}

async function run(name: string, suffix = '') {
  const out = path.join(OUT, `${name}${suffix}.ipynb`);
  const html = path.join(OUT, `${name}${suffix}.html`);
  const r = await executeNotebook(path.join(PROJECT_ROOT, 'notebooks', `${name}.ipynb`), { out, html, env: ENV });
  assert.equal(r.ok, true);
  const outs = outputs(out);
  assert.deepEqual(outs.filter((o) => o.name === 'stderr').map((o) => joined(o.text)), [], `${name}: nothing on stderr`);
  assert.ok(!outs.some((o) => o.output_type === 'error'), `${name}: no error output`);
  return { outs, html: fs.readFileSync(html, 'utf8'), seconds: r.seconds };
}

before(async () => {
  // A handful of photos per person, a few ground-truth pairs, and their aligned faces, as chapter 02 would leave them.
  await writeSamples(path.join(DATA, 'builtin'), { count: 10, pairs: 4, progressStream: null });
  for (const id of ['a', 'b']) {
    const r = await extractFaces(path.join(DATA, 'builtin', id, 'raw'), path.join(DATA, 'builtin', id, 'faces'), { progressStream: null });
    assert.ok(r.written >= 3, `extracted ${r.written} faces of ${id}`);
  }
}, { timeout: 120_000 });

test('chapters 03-07 are stored without outputs, on the project kernel', () => {
  for (const name of CHAPTERS) {
    const nb = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'notebooks', `${name}.ipynb`), 'utf8'));
    assert.equal(nb.metadata.kernelspec.name, 'deepfake-lab', name);
    assert.equal(nb.metadata.kernelspec.display_name, 'TypeScript (Deepfake Lab)', name);
    for (const c of nb.cells) if (c.cell_type === 'code') assert.deepEqual([c.outputs, c.execution_count], [[], null], `${name}: a stored output`);
    const config = nb.cells.find((c: { cell_type: string }) => c.cell_type === 'code').source.join('');
    assert.match(config, /const PROFILE = process\.env\.DEEPFAKE_NB_PROFILE \?\? 'demo'/, name);
    assert.match(config, /const DATA = process\.env\.DEEPFAKE_DATA_ROOT \?\? 'data'/, name);
  }
});

test('03 without the faces of chapter 02 stops in its configuration cell with one clear line', { timeout: 120_000 }, async () => {
  const empty = path.join(tmp, 'no-data');
  fs.mkdirSync(empty, { recursive: true });
  await assert.rejects(
    executeNotebook(path.join(PROJECT_ROOT, 'notebooks', '03-autoencoder.ipynb'), {
      out: path.join(OUT, 'no-data.ipynb'),
      env: { ...ENV, DEEPFAKE_DATA_ROOT: empty, DEEPFAKE_MODEL_ROOT: path.join(tmp, 'no-models') },
    }),
    (e: unknown) => {
      assert.ok(e instanceof NotebookFailed);
      assert.equal(e.run.cell, 2, 'the configuration cell');
      assert.match(e.message, /run chapter 02/);
      return true;
    },
  );
});

test('03 trains the plain and the shared autoencoder, showing previews, the loss curve and the loss', { timeout: 180_000 }, async () => {
  const { outs, html } = await run('03-autoencoder');
  const text = stdout(outs);
  assert.ok(pngs(outs) >= 4, 'faces, warps, reconstructions and the preview grid are shown');
  assert.match(text, /a new one-person model/);
  assert.match(text, /encoder and decoder A grown from the one-person model/);
  assert.match(text, /step 6: loss A \d+\.\d{4}, B \d+\.\d{4}/, 'the loss is printed');
  assert.ok(html.includes('class="deepfake-lab-chart"'), 'a Plotly chart div is in the HTML page');
  assert.ok(html.includes('data-deepfake-lab-plotly'), 'plotly.js is embedded in the page, not fetched');
  assert.ok(html.includes('data:image/png;base64'), 'the HTML page embeds the pictures');
  assert.match(latestCheckpoint(path.join(MODELS, 'builtin')) ?? '', /step-00000006$/);
  // The settings it trained with are the default recipe's (the small profile sets a batch of 4 on top);
  // the demo runs this same cell with no overrides.
  const { data: _data, ...trainedWith } = (await readCheckpointInfo(latestCheckpoint(path.join(MODELS, 'builtin'))!)).settings;
  const asJson = (x: unknown) => JSON.parse(JSON.stringify(x)) as unknown;
  assert.deepEqual(asJson(trainedWith), asJson(resolveRecipe(DEFAULT_RECIPE, { batchSize: 4 }).settings), "chapter 03 trains with DEFAULT_RECIPE's settings");
  const pictures = htmls(outs).filter((h) => h.includes('class="deepfake-lab-architecture"'));
  assert.deepEqual(pictures.map((h) => (h.match(/Decoder [AB] ·/g) ?? []).length), [1, 2], 'the one-person and the two-person network drawn');
  assert.ok(htmls(outs).some((h) => h.startsWith('<img alt="timelapse"') && h.includes('data:image/webp;base64,')), 'the timelapse plays in the page');
  assert.match(text, /2 frames, steps 3 to 6/);
  // Section 7: the two recipes through compareRuns: one table, the differing settings marked.
  const tables = htmls(outs).filter((h) => h.includes('class="deepfake-lab-runs"'));
  assert.equal(tables.length, 1, 'the runs table');
  assert.ok((tables[0]!.match(/data-differs="true"/g) ?? []).length >= 1, 'classic and the default recipe differ in a setting');
  assert.match(tables[0]!, /swap A→B vs truth, PSNR dB/);
  assert.ok(htmls(outs).some((h) => h.includes('Training loss of each run')), 'the runs\' loss curves');
  assert.ok(fs.existsSync(path.join(MODELS, 'builtin-recipes', 'compare.png')), 'the faces grid');
});

test('03 run again continues from the checkpoint', { timeout: 180_000 }, async () => {
  const { outs } = await run('03-autoencoder', '.again');
  const text = stdout(outs);
  assert.match(text, /continuing from .*step-00000006 \(step 6\)/);
  assert.match(text, /step 12: loss A \d+\.\d{4}, B \d+\.\d{4}/);
  assert.match(text, /4 frames, steps 3 to 12/, 'the timelapse keeps the first run\'s frames');
  assert.match(latestCheckpoint(path.join(MODELS, 'builtin')) ?? '', /step-00000012$/);
});

test('04 shows the latent scatters with hover faces, the interpolation, the traversal and new faces', { timeout: 180_000 }, async () => {
  const { outs, html } = await run('04-latent-space');
  const scatters = htmls(outs).filter((h) => h.includes('deepfake-lab-hover-face'));
  assert.equal(scatters.length, 2, 'a PCA and a UMAP scatter');
  assert.ok(scatters.every((h) => h.includes('data:image/jpeg;base64')), 'each point carries its face');
  assert.ok(pngs(outs) >= 3, 'interpolation strip, traversal grid and new faces are shown');
  assert.match(stdout(outs), /model at step 12/);
  assert.ok(html.includes('class="deepfake-lab-chart"') && html.includes('data-deepfake-lab-plotly'));
});

test('05 shows the swap and its stages, labels every output and evaluates the model', { timeout: 180_000 }, async () => {
  const { outs, html } = await run('05-swapping');
  const text = stdout(outs);
  const all = htmls(outs).join('\n');
  assert.match(text, /face\(s\) swapped \(shown, not saved\)/);
  assert.ok(pngs(outs) >= 3, 'before/after of a written file, the sharpening comparison and the evaluation grid');
  assert.ok(htmls(outs).filter((h) => h.startsWith('<img src="data:image/png;base64,')).length >= 2, 'before/after and the stage strip of the preview');
  for (const measure of ['identity transfer', 'landmark error', 'PSNR vs ground truth', 'SSIM vs ground truth']) assert.ok(all.includes(measure), measure);
  assert.match(text, new RegExp(`label of \\S+: ${LABEL_PREFIX} \\d`));
  // Section 4: one face through every colour matcher and blender, with its colour error.
  const errors = htmls(outs).find((h) => h.includes('colour error ΔE'));
  assert.ok(errors, 'the colour error table');
  assert.equal((errors.match(/<tr>/g) ?? []).length, 4, 'a header and one row per colour matcher');
  assert.match(text, /closest colour: \S+ \+ \S+ \(ΔE \d+\.\d\); this chapter uses histogram \+ alpha/);
  // Section 5: the face at each sharpening amount, and the amount the chapter used.
  assert.match(text, /this chapter's swaps use sharpen 1 \(CONFIG\.sharpen/);
  const files = fs.readdirSync(SWAPS).filter((f) => f.endsWith('.png'));
  assert.ok(files.length >= 1, 'swapped photos are written');
  for (const f of files) {
    const p = await readProvenance(fs.readFileSync(path.join(SWAPS, f)));
    assert.ok(p.exif?.startsWith(LABEL_PREFIX) && p.pngText?.startsWith(LABEL_PREFIX), `${f} carries the label`);
  }
  const responsible = html.search(/responsible use/i);
  assert.ok(responsible >= 0 && responsible < html.indexOf('Consent') && html.indexOf('The law') < html.indexOf('stage by stage'), 'responsible use comes before any swap');
});

test('05 run again swaps the photos again (a re-run after more training shows the new model, not the old files)', { timeout: 180_000 }, async () => {
  // What the first run wrote, and the swap it showed.
  const before = new Map(fs.readdirSync(SWAPS).filter((f) => f.endsWith('.png')).map((f) => [f, fs.readFileSync(path.join(SWAPS, f))]));
  assert.ok(before.size >= 1, 'the first run wrote swaps');
  const shownBefore = shownSwap(path.join(OUT, '05-swapping.ipynb'));
  // More training, as re-running chapter 03's training cell gives: a newer checkpoint.
  const step = await trainMore(path.join(MODELS, 'builtin'), 2);
  assert.match(latestCheckpoint(path.join(MODELS, 'builtin')) ?? '', new RegExp(`step-${String(step).padStart(8, '0')}$`));
  const trained = Date.now();
  const { outs } = await run('05-swapping', '.again');
  const text = stdout(outs);
  assert.match(text, /\d+ labelled photos in /);
  assert.match(text, new RegExp(`^model at step ${step}:`, 'm'), 'the chapter loads the newest checkpoint');
  for (const [f, old] of before) {
    const file = path.join(SWAPS, f);
    assert.ok(fs.statSync(file).mtimeMs >= trained, `${f} is written again, not kept from the first run`);
    const [was, now] = [await decodeImage(old), await decodeImage(file)];
    assert.ok(!Buffer.from(now.data).equals(Buffer.from(was.data)), `${f}: the new model's swap, not the old pixels`);
  }
  const shownAfter = shownSwap(path.join(OUT, '05-swapping.again.ipynb'));
  assert.notEqual(shownAfter, shownBefore, "the before/after picture shows the new model's swap");
});

test('06 builds a labelled set from the photos, trains a detector, and reports accuracy, ROC, saliency and unseen swaps', { timeout: 240_000 }, async () => {
  const { outs, html } = await run('06-spotting-fakes');
  const text = stdout(outs);
  const crops = /(\d+) crops from (\d+) photos: (\d+) to train on, (\d+) to test on/.exec(text);
  assert.ok(crops, text);
  assert.equal(Number(crops[1]), 2 * Number(crops[2]), 'a real and a swapped crop per photo');
  assert.equal(Number(crops[3]) + Number(crops[4]), Number(crops[1]));
  assert.ok(Number(crops[4]) >= 2, 'some photos held out');
  assert.match(text, /epoch 3: loss \d\.\d{3}/);
  assert.ok(fs.existsSync(path.join(MODELS, 'builtin-detector', 'model.json')), 'the detector is saved');
  assert.match(text, /held-out photos: accuracy \d+\.\d% on \d+ crops, ROC AUC [01]\.\d{3}/);
  // Up to 4 steps in 3 seconds (a software GPU manages 1).
  assert.match(text, /the unseen model: 32 px, step ([1-4]) \(\1 trained now\)/);
  assert.match(text, /unseen model: accuracy \d+\.\d% on \d+ crops/);
  assert.ok(pngs(outs) >= 4, 'pairs, scored pairs, saliency, unseen pairs');
  assert.ok(!outs.some((o) => /^(true|false)$/.test((joined(o.text) + joined(o.data?.['text/plain'] ?? '')).trim()) || /refCountAfterDispose/.test(joined(o.text))), 'no stray cell values');
  const table = htmls(outs).find((h) => h.startsWith('<table') && h.includes('swaps caught'));
  assert.ok(table && table.includes('an unseen model'), 'the comparison table');
  assert.ok((html.match(/class="deepfake-lab-chart"/g) ?? []).length >= 2, 'two ROC charts');
  assert.match(html, /What a detector like this can and cannot tell/);
});

test('07 renders the built-in clip, tracks and swaps it with sound and the label, and charts the jitter', { timeout: 240_000 }, async () => {
  const { outs, html } = await run('07-video');
  const text = stdout(outs);
  assert.match(text, /^30 frames at 25 fps rendered in [\d.]+ s/m);
  assert.match(text, /512x640 at 25\/1 fps, with sound: 30 of 30 frames have a face/);
  assert.match(text, /written: 30 frames at 25\/1 fps, with sound; label in the metadata: "synthetic face swap by deepfake-lab/);
  const swapped = path.join(tmp, 'output', 'videos', 'builtin', 'a.mp4');
  const written = await probeOutput(swapped);
  assert.deepEqual([written.frames, written.rate, written.audio], [30, '25/1', true]);
  assert.ok(fs.existsSync(path.join(tmp, 'output', 'videos', 'builtin', 'a.provenance.json')), 'the sidecar');
  const m = /smoothing took (-?\d+)% of the jitter away; ground-truth PSNR ([\d.]+) -> ([\d.]+) dB/.exec(text);
  assert.ok(m, text);
  assert.ok(Number(m[1]) >= 50, `jitter down ${m[1]}%`);
  assert.equal((html.match(/<video /g) ?? []).length, 2, 'before/after players: the clip with its truth, and the swap');
  assert.ok((html.match(/class="deepfake-lab-chart"/g) ?? []).length >= 1, 'the jitter chart');
  assert.ok(htmls(outs).some((h) => h.startsWith('<table') && h.includes('landmark jitter')), 'the metrics table');
  assert.ok(!outs.some((o) => /^(true|false)$/.test((joined(o.text) + joined(o.data?.['text/plain'] ?? '')).trim())), 'no stray cell values');
});

test('the exported pages of 03, 05, 06 and 07 draw every chart and image in headless Chromium, offline, and 07\'s videos play', { skip: needs('Chromium', fs.existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium') ? false : 'no /usr/bin/chromium (npm run setup installs it)'), timeout: 180_000 }, async () => {
  for (const name of ['03-autoencoder', '05-swapping', '06-spotting-fakes', '07-video']) {
    const r = await checkPage(path.join(OUT, `${name}.html`), `small-${name}.png`);
    assertClean(name, r);
    assert.deepEqual(r.external, [], `${name}: asks the network for nothing`);
    if (name !== '07-video') assert.ok(r.images >= 3, `${name}: ${r.images} images`);
    if (name !== '05-swapping') assert.ok(r.charts >= (name === '07-video' ? 1 : 2), `${name}: ${r.charts} charts`);
  }
  const videos = await playVideos(path.join(OUT, '07-video.html'));
  assert.equal(videos.length, 2);
  for (const v of videos) {
    assert.equal(v.error, null);
    assert.ok(v.width > 0 && v.played > 0.1, `a video played to ${v.played} s (${v.width}x${v.height})`);
  }
});
