// Chapters 01 (photos) and 02 (face extraction) run top to bottom through Jupyter with the small
// settings, in order, on a temporary data folder (DEEPFAKE_DATA_ROOT) so a user's data/ is never
// touched; then chapter 02 runs again and must resume instead of redoing the work.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { executeNotebook } from '../../lib/util/notebook-runner';
import { readAlignments } from '../../lib/faces/alignments';
import { PROJECT_ROOT } from '../helpers/shared';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deepfake-lab-ch0102-'));
const data = path.join(tmp, 'data');
const env = { DEEPFAKE_NB_PROFILE: 'small', DEEPFAKE_DATA_ROOT: data };
// The renders and crops go; the executed notebooks and HTML pages stay in tmp for a look.
after(() => fs.rmSync(data, { recursive: true, force: true }));

interface Output { output_type: string; name?: string; text?: string | string[]; data?: Record<string, unknown> }
function outputs(file: string): Output[] {
  const nb = JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: Array<{ outputs?: Output[] }> };
  return nb.cells.flatMap((c) => c.outputs ?? []);
}
const text = (o: Output) => (Array.isArray(o.text) ? o.text.join('') : (o.text ?? ''));
const html = (o: Output) => [o.data?.['text/html'] ?? ''].flat().join('');
const stdout = (outs: Output[]) => outs.filter((o) => o.name === 'stdout').map(text).join('');
const pngs = (outs: Output[]) => outs.filter((o) => o.data && 'image/png' in o.data).length;

async function run(chapter: string, tag = '') {
  const out = path.join(tmp, `${chapter}${tag}.ipynb`);
  const page = path.join(tmp, `${chapter}${tag}.html`);
  const r = await executeNotebook(path.join(PROJECT_ROOT, 'notebooks', `${chapter}.ipynb`), { out, html: page, env });
  assert.equal(r.ok, true);
  const outs = outputs(out);
  assert.deepEqual(outs.filter((o) => o.name === 'stderr').map(text), [], 'nothing on stderr');
  assert.ok(!outs.some((o) => o.output_type === 'error'), 'no cell error');
  assert.deepEqual(outs.filter((o) => o.output_type === 'execute_result').map((o) => o.data?.['text/plain']), [], 'no stray return values shown (true, <Buffer ...>)');
  const pageText = fs.readFileSync(page, 'utf8');
  assert.ok(pageText.includes('data:image/png;base64'), 'the HTML page embeds the pictures');
  return { outs, run: r };
}

test('the stored chapters carry no outputs and name the project kernel', () => {
  for (const chapter of ['01-scraping', '02-face-extraction']) {
    const nb = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'notebooks', `${chapter}.ipynb`), 'utf8'));
    assert.equal(nb.metadata.kernelspec.name, 'deepfake-lab');
    for (const c of nb.cells.filter((c: { cell_type: string }) => c.cell_type === 'code')) {
      assert.deepEqual(c.outputs, [], `${chapter}: a code cell has stored outputs`);
      assert.equal(c.execution_count, null);
    }
  }
});

test('chapters 01 and 02 run in order with the small settings, and 02 resumes when run again', { timeout: 600_000 }, async (t) => {
  await t.test('01-scraping renders the built-in people, falls back from scraping in one line, shows the manifest', async () => {
    const { outs } = await run('01-scraping');
    assert.ok(pngs(outs) >= 4, 'source photos, the rig grid, renders and truth pairs are shown');
    const said = stdout(outs);
    assert.match(said, /profile small: 12 photos per person and 4 truth pairs/);
    // Offline the provider is unreachable and the chapter says so in one line; online it downloads
    // into data/scraped. Any other scraping error is not caught by the chapter: the run fails.
    const scrapeLines = said.split('\n').filter((l) => /^No scraping: |^wikimedia "/.test(l));
    assert.equal(scrapeLines.length, 1, `one line about scraping, got: ${JSON.stringify(scrapeLines)}`);
    assert.match(scrapeLines[0], /^No scraping: wikimedia: cannot reach commons\.wikimedia\.org |^wikimedia "Colin Powell": \d+ new photos/);
    assert.ok(outs.some((o) => html(o).includes('<table>') && html(o).includes('a-00000')), 'the manifest table lists the renders');
    for (const id of ['a', 'b']) {
      const raw = path.join(data, 'builtin', id, 'raw');
      assert.equal(fs.readdirSync(raw).filter((f) => /^[ab]-\d{5}\.(jpg|png)$/.test(f)).length, 12, `${id}/raw holds 12 renders`);
      assert.ok(fs.existsSync(path.join(raw, 'manifest.jsonl')));
    }
    assert.equal(fs.readdirSync(path.join(data, 'builtin', 'truth', 'a')).length, 4);
  });

  await t.test('02-face-extraction aligns both people, shows galleries, the mask and the matrix', async () => {
    const { outs } = await run('02-face-extraction');
    assert.ok(pngs(outs) >= 6, 'template, detection, aligned crop, galleries, mask and the mapped-back border are shown');
    const said = stdout(outs);
    const kept = said.match(/faces kept: A (\d+), B (\d+)/);
    assert.ok(kept, 'the extraction summary line is printed');
    assert.ok(Number(kept[1]) > 0 && Number(kept[2]) > 0, `faces kept for both people: ${kept[0]}`);
    const table = outs.map(html).find((h) => h.includes('faces kept') && h.includes('photos/s'));
    assert.ok(table, 'the numbers table is shown');
    for (const id of ['a', 'b']) {
      const faces = path.join(data, 'builtin', id, 'faces');
      const a = readAlignments(path.join(faces, 'alignments.json'));
      assert.ok(a, `${id}/faces/alignments.json is written`);
      assert.equal(a.options.size, 256);
      assert.equal(a.options.margin, 0.2);
      assert.equal(a.options.identity, 'dominant');
      assert.ok(fs.readdirSync(faces).filter((f) => f.endsWith('.png')).length > 0, `${id}/faces holds crops`);
    }
    // The photo -> crop -> photo round trip of the nose tip gives back the same numbers.
    const trip = outs.map(html).find((h) => h.includes('landmark 30'));
    assert.ok(trip, 'the matrix table is shown');
    const cells = [...trip.matchAll(/<td[^>]*>([-\d.]+)<\/td>/g)].map((m) => m[1]);
    assert.equal(cells.length, 6);
    assert.deepEqual(cells.slice(0, 2), cells.slice(4, 6), 'the inverse maps the crop point back onto the photo point');
  });

  await t.test('02-face-extraction run again skips the finished photos', async () => {
    const { outs } = await run('02-face-extraction', '.again');
    assert.match(stdout(outs), /person A: 0 photos extracted now \(12 done before\)/);
    assert.match(stdout(outs), /person B: 0 photos extracted now \(12 done before\)/);
  });
});
