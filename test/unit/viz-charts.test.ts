// Plotly chart HTML and loss curves, without a browser (test/integration/browser.test.ts draws them for real).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { chartHtml, EMBED_MARKER, ensurePlotly, figurePageHtml, plotlyEmbedHtml, plotlyVersion, scriptJson, showFigure, writeFigureHtml } from '../../lib/viz/plotly';
import { historyIdentities, logTicks, lossFigure, smoothEma } from '../../lib/viz/charts';
import type { HistoryEntry } from '../../lib/train/history';

const embeds = (html: string) => html.split(`<script ${EMBED_MARKER}=`).length - 1;

test('smoothEma: constant stays constant, first point is the first value, weight 0 is the identity', () => {
  assert.deepEqual(smoothEma([2, 2, 2, 2], 0.9).map((v) => +v.toFixed(12)), [2, 2, 2, 2]);
  assert.equal(smoothEma([5, 1, 1], 0.9)[0], 5);
  assert.deepEqual(smoothEma([3, 1, 4, 1, 5], 0), [3, 1, 4, 1, 5]);
  const s = smoothEma([1, 0, 1, 0, 1, 0, 1, 0], 0.8);
  assert.ok(Math.max(...s.slice(2)) - Math.min(...s.slice(2)) < 0.5, 'a zigzag is flattened');
  const gap = smoothEma([1, NaN, 1], 0.5);
  assert.ok(Number.isNaN(gap[1]) && gap[2] === 1, 'a non-finite loss is a gap, not poison');
  assert.throws(() => smoothEma([1], 1), /\[0, 1\)/);
});

function history(n: number): HistoryEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    step: i + 1,
    loss: { a: 0.2 / (i + 1), b: 0.3 / (i + 1) },
    facesPerSecond: 3,
    prepMs: 1,
    stepMs: 10,
    time: new Date(0).toISOString(),
  }));
}

test('logTicks: 1-2-5 ticks written out in full, or null when too few', () => {
  assert.deepEqual(logTicks(0.04, 0.4), { tickvals: [0.05, 0.1, 0.2], ticktext: ['0.05', '0.1', '0.2'] });
  assert.deepEqual(logTicks(0.003, 0.02)?.ticktext, ['0.005', '0.01', '0.02']);
  assert.equal(logTicks(0.055, 0.07), null);
  assert.equal(logTicks(0, 1), null);
});

test('lossFigure: a raw and a smoothed line per identity, holding the data', () => {
  const h = history(20);
  assert.deepEqual(historyIdentities(h), ['a', 'b']);
  const fig = lossFigure(h, { names: { a: 'Alice' } });
  assert.equal(fig.data.length, 4);
  assert.deepEqual(Array.from(fig.data[0].y ?? []), h.map((e) => e.loss.a));
  assert.deepEqual(Array.from(fig.data[1].y ?? []), smoothEma(h.map((e) => e.loss.a), 0.9));
  assert.match(String(fig.data[0].name), /^Alice/);
  assert.match(String(fig.data[2].name), /^B/);
  assert.equal((fig.layout?.yaxis as { type: string }).type, 'log');
  assert.equal(lossFigure([]).data.length, 0, 'an empty history is an empty chart, not an error');
});

test('chart HTML holds the data, no library, and survives hostile strings', () => {
  const fig = lossFigure(history(3), { names: { a: '</script><script>alert(1)</script>' } });
  const html = chartHtml(fig, { id: 'c1' });
  assert.equal(embeds(html), 0, 'a chart does not carry the library');
  assert.ok(html.includes('"step') || html.includes('0.1'), 'the data is in the page');
  assert.ok(html.includes(JSON.stringify(0.2 / 2)));
  assert.ok(!html.includes('</script><script>alert'), 'a name cannot close the script tag');
  assert.equal(JSON.parse(scriptJson('</script>\u2028')), '</script>\u2028');
});

test('a page holds exactly one library embed, and it is the offline one', () => {
  const fig = lossFigure(history(5));
  const page = figurePageHtml(fig, { title: 'Loss' });
  assert.equal(embeds(page), 1);
  assert.match(plotlyVersion(), /^\d+\.\d+\.\d+$/);
  assert.ok(!/<script[^>]+src=/i.test(page), 'no external script');
  assert.ok(!/cdn\.plot\.ly|cdnjs/.test(page.slice(0, 2000)), 'no CDN');
  const embed = plotlyEmbedHtml();
  assert.ok(embed.length > 1_000_000, 'the library itself is inline');
  assert.equal((embed.match(/<\/script/gi) ?? []).length, 1, 'nothing in the library closes the tag early');
});

test('writeFigureHtml writes the page; outside the kernel, showing is a no-op', async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dfl-viz-')), 'loss.html');
  await writeFigureHtml(file, lossFigure(history(4)), { title: 'Loss' });
  assert.equal(embeds(fs.readFileSync(file, 'utf8')), 1);
  assert.equal(showFigure(lossFigure(history(2))), false);
  assert.equal(ensurePlotly(), false, 'nothing was sent, so it is not marked as sent');
});
