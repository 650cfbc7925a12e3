// The browser check: notebook pages exported to HTML, opened offline in headless Chromium (Debian's
// chromium driven by playwright-core). Every Plotly chart must draw its SVG, every image must
// decode, and the page must raise no error. Screenshots go to output/screenshots/ for a human look.
//
// 1. test/fixtures/notebooks/viz-check.ipynb, which uses every chart and picture of lib/viz/,
//    executed here on the project kernel; plus the standalone chart page it writes.
// 2. Every page already exported under output/notebooks/ (by `npm run demo`); on a clean clone,
//    where there is none, chapter 01 is run and exported here so that the check still runs.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { executeNotebook } from '../../lib/util/notebook-runner';
import { EMBED_MARKER } from '../../lib/viz/plotly';
import { PROJECT_ROOT } from '../helpers/shared';
import { assertClean, checkPage, SHOTS } from '../helpers/browser';
import { compareRuns } from '../../lib/lab/runs';
import { TrainingSession } from '../../lib/train/session';
import { writeRunComparisonPage } from '../../lib/viz/runs';
import { initBackend } from '../../lib/engine/backend';
import { syntheticFaces, tinyConfig } from '../train-fixtures';

// The functions passed to page.evaluate run in Chromium; name the DOM they touch (the project
// compiles without the DOM library).
interface DomElement { getAttribute(name: string): string | null }
declare const document: { querySelectorAll(selector: string): Iterable<DomElement>; getElementById(id: string): DomElement | null };

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deepfake-lab-browser-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('the viz fixture notebook, exported to HTML, draws every chart and image offline', { timeout: 240_000 }, async () => {
  const html = path.join(tmp, 'viz-check.html');
  await executeNotebook(path.join(PROJECT_ROOT, 'test', 'fixtures', 'notebooks', 'viz-check.ipynb'), {
    out: path.join(tmp, 'viz-check.ipynb'),
    html,
    env: { DEEPFAKE_VIZ_OUT: tmp },
  });
  const text = fs.readFileSync(html, 'utf8');
  assert.equal(text.split(`<script ${EMBED_MARKER}=`).length - 1, 1, 'plotly.js is embedded exactly once');

  let hovered = { before: '', after: '', caption: '' };
  const r = await checkPage(html, 'viz-check.png', async (page) => {
    // Hover a point of B in the first latent scatter: the face beside the chart must change.
    const box = page.locator('.deepfake-lab-chart-box').filter({ has: page.locator('.deepfake-lab-hover-face') }).first();
    const img = box.locator('.deepfake-lab-hover-face');
    const before = (await img.getAttribute('src')) ?? '';
    await box.scrollIntoViewIfNeeded();
    const point = box.locator('.scatterlayer .trace:nth-child(2) .point').first();
    const p = await point.boundingBox();
    assert.ok(p, 'the scatter has points');
    await page.mouse.move(p.x + p.width / 2, p.y + p.height / 2);
    const id = (await img.getAttribute('id')) ?? '';
    await page
      .waitForFunction(([id, before]) => document.getElementById(id)?.getAttribute('src') !== before, [id, before] as const, { timeout: 10_000 })
      .catch(() => undefined);
    hovered = { before, after: (await img.getAttribute('src')) ?? '', caption: (await box.locator('figcaption').textContent()) ?? '' };
    await box.screenshot({ path: path.join(SHOTS, 'viz-check-hover.png') });
  });
  assertClean('viz-check.html', r);
  assert.equal(r.charts, 4, 'live loss, loss, PCA and UMAP scatters');
  assert.ok(r.images >= 5, `hover faces and PNG grids (${r.images} images)`);
  assert.notEqual(hovered.after, hovered.before, 'hovering a point shows its face');
  assert.match(hovered.caption, /^B: sample[456]/);

  const standalone = await checkPage(path.join(tmp, 'loss.html'), 'viz-check-standalone.png');
  assertClean('loss.html', standalone);
  assert.equal(standalone.charts, 1);
  assert.deepEqual(standalone.external, [], 'the standalone page asks the network for nothing');
});

const exported = path.join(PROJECT_ROOT, 'output', 'notebooks');
const pages = fs.existsSync(exported) ? fs.readdirSync(exported).filter((f) => f.endsWith('.html')).map((f) => path.join(exported, f)).sort() : [];

/**
 * A clean clone (CI) has exported no chapter yet: run chapter 01 here with the small settings on a
 * temporary data folder (as test/integration/notebook-chapters-01-02.test.ts does) and export its page.
 */
async function exportChapter01(): Promise<string> {
  const html = path.join(tmp, '01-scraping.html');
  await executeNotebook(path.join(PROJECT_ROOT, 'notebooks', '01-scraping.ipynb'), {
    out: path.join(tmp, '01-scraping.ipynb'),
    html,
    env: { DEEPFAKE_NB_PROFILE: 'small', DEEPFAKE_DATA_ROOT: path.join(tmp, 'data') },
  });
  return html;
}

test('every exported chapter page draws its charts and images', { timeout: 360_000 }, async (t) => {
  const checked = pages.length ? pages : [await exportChapter01()];
  t.diagnostic(pages.length ? `${pages.length} page(s) under output/notebooks/` : 'none under output/notebooks/ yet: chapter 01 exported here');
  for (const file of checked) {
    const name = path.basename(file);
    const text = fs.readFileSync(file, 'utf8');
    assert.ok(text.split(`<script ${EMBED_MARKER}=`).length - 1 <= 1, `${name}: plotly.js embedded more than once`);
    const r = await checkPage(file, name.replace(/\.html$/, '.png'));
    assertClean(name, r);
    assert.ok(r.images + r.charts > 0, `${name}: a chapter page shows pictures or charts (${r.images} images, ${r.charts} charts)`);
  }
});

test('the runs comparison page (eval with two --model) draws its chart, grid and table offline, and switches the x axis to minutes', { timeout: 240_000 }, async () => {
  await initBackend();
  const d = await syntheticFaces(8, 24);
  const settings = { batchSize: 2, adam: { learningRate: 1e-3 } };
  const dirs = [path.join(d.root, 'one'), path.join(d.root, 'two')];
  for (const [i, dir] of dirs.entries()) {
    const session = await TrainingSession.open({ modelDir: dir, data: { a: d.a, b: d.b }, config: tinyConfig(), settings: { ...settings, seed: i + 1, loss: { ssimWeight: i } } });
    for (let k = 0; k < 4; k++) await session.trainStep();
    await session.saveCheckpoint();
    session.dispose();
  }
  const c = await compareRuns(dirs, { gridFile: path.join(d.root, 'compare.png') });
  const page = await writeRunComparisonPage(path.join(d.root, 'compare.html'), c);
  let titles = { before: '', after: '' };
  const r = await checkPage(page, 'runs-compare.png', async (p) => {
    const title = p.locator('.deepfake-lab-chart .g-xtitle').first();
    const before = (await title.textContent()) ?? '';
    await p.locator('.deepfake-lab-chart .updatemenu-button').nth(1).click();
    await p.waitForFunction((b) => document.querySelectorAll('.g-xtitle') && [...document.querySelectorAll('.g-xtitle')].some((e) => e.getAttribute('data-unformatted') !== b), before, { timeout: 10_000 }).catch(() => undefined);
    titles = { before, after: (await title.textContent()) ?? '' };
  });
  assertClean('compare.html', r);
  assert.deepEqual([r.charts, r.images, r.external], [1, 1, []]);
  assert.equal(titles.before, 'step');
  assert.match(titles.after, /^minutes of training/);
});
