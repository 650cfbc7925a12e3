// Comparing runs (lib/lab/runs.ts, lib/viz/runs.ts, `eval --model D1 --model D2`): settings flattened
// and the differing ones found, training minutes without the pauses between runs, the same faces
// through every model in one grid, and the table and page that highlight what differs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { cumulativeMinutes, differingSettings, flattenSettings, type RunComparison, type SettingValue } from '../../lib/lab/runs';
import { runsLossFigure, runsTableHtml } from '../../lib/viz/runs';
import type { HistoryEntry } from '../../lib/train/history';
import { runCli } from '../helpers/cli';
import { syntheticFaces } from '../train-fixtures';

const entry = (step: number, stepMs: number, time: string): HistoryEntry => ({ step, loss: { a: 1 / step, b: 2 / step }, facesPerSecond: 1, prepMs: 1, stepMs, time });

test('settings flatten to dotted names, and the names whose values differ are found', () => {
  const flat = flattenSettings({ adam: { learningRate: 5e-4, beta1: 0.5 }, widths: [32, 64], recipe: null }, 'train');
  assert.deepEqual(flat, { 'train.adam.learningRate': 5e-4, 'train.adam.beta1': 0.5, 'train.widths': '32, 64', 'train.recipe': null });
  const runs: Array<{ settings: Record<string, SettingValue> }> = [{ settings: { x: 1, y: 'a', z: true } }, { settings: { x: 1, y: 'b', z: true } }, { settings: { x: 1, y: 'a' } }];
  assert.deepEqual(differingSettings(runs), ['y', 'z']);
  assert.deepEqual(differingSettings([runs[0]!, runs[0]!]), []);
});

test('training minutes add up step times, so an hour between two resumed runs does not count', () => {
  // Two runs of two steps each, an hour apart on the clock.
  const h = [entry(1, 30_000, '2026-12-01T10:00:30Z'), entry(2, 30_000, '2026-12-01T10:01:00Z'), entry(3, 60_000, '2026-12-01T11:01:00Z'), entry(4, 60_000, '2026-12-01T11:02:00Z')];
  assert.deepEqual(cumulativeMinutes(h), [0.5, 1, 2, 3]);
  const fig = runsLossFigure([{ name: 'one', history: h }, { name: 'two', history: h.slice(0, 2) }], { smoothing: 0 });
  assert.equal(fig.data.length, 4, 'a line per run and identity');
  assert.deepEqual(fig.data.map((t) => t.name), ['one A', 'one B', 'two A', 'two B']);
  assert.notEqual(fig.data[0]!.line, fig.data[2]!.line, 'runs in different colours');
  const buttons = (fig.layout!.updatemenus as Array<{ buttons: Array<{ label: string; args: [{ x: number[][] }] }> }>)[0]!.buttons;
  assert.deepEqual(buttons.map((b) => b.label), ['by step', 'by minutes']);
  assert.deepEqual(buttons[1]!.args[0].x[0], [0.5, 1, 2, 3]);
  assert.deepEqual(buttons[0]!.args[0].x[0], [1, 2, 3, 4]);
});

test('eval with two --model: runs[] per model, the first model at the top level, a grid of the same faces and a page marking the differing settings', { timeout: 300_000 }, async () => {
  const d = await syntheticFaces(10, 24);
  const tiny = ['--preset', 'tiny', '--size', '16', '--batch', '2'];
  const m1 = path.join(d.root, 'slow'), m2 = path.join(d.root, 'fast');
  for (const [dir, lr, steps] of [[m1, '0.0001', '4'], [m2, '0.002', '6']] as const) {
    const r = runCli(['train', '--a', d.a, '--b', d.b, '--model', dir, ...tiny, '--lr', lr, '--steps', steps, '--json']);
    assert.equal(r.status, 0, r.stderr);
  }
  const one = runCli(['eval', '--model', m1, '--a', d.a, '--b', d.b, '--json']);
  assert.equal(one.status, 0, one.stderr);
  assert.equal(one.json!.runs, undefined, 'one model: the output of before');

  const r = runCli(['eval', '--model', m1, '--model', m2, '--a', d.a, '--b', d.b, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const j = r.json as { step: number; reconstruction: unknown; differing: string[]; grid: string; page: string; runs: Array<{ name: string; step: number; minutes: number; reconstruction: { a: { psnr: number } }; settings: Record<string, unknown> }> };
  assert.deepEqual(j.runs.map((x) => [x.name, x.step]), [['slow', 4], ['fast', 6]]);
  assert.equal(j.step, 4);
  assert.deepEqual(j.reconstruction, j.runs[0]!.reconstruction, 'the top level is the first model');
  assert.deepEqual(j.reconstruction, (one.json as { reconstruction: unknown }).reconstruction, 'scored as eval scores it alone');
  assert.ok(j.runs.every((x) => x.minutes > 0 && x.minutes < 5), JSON.stringify(j.runs.map((x) => x.minutes)));
  assert.ok(j.differing.includes('train.adam.learningRate'), j.differing.join(', '));
  assert.ok(!j.differing.includes('model.latentSize') && !j.differing.includes('train.batchSize'), j.differing.join(', '));
  assert.deepEqual([j.runs[0]!.settings['train.adam.learningRate'], j.runs[1]!.settings['train.adam.learningRate']], [0.0001, 0.002]);
  // Grid: real A, each run's A→B, real B, each run's B→A: 6 rows of 96 px cells and captions.
  const meta = await sharp(j.grid).metadata();
  assert.equal(meta.height, 6 * (96 + 14));
  assert.equal((meta.width ?? 0) % 96, 0);
  const page = readFileSync(j.page, 'utf8');
  assert.equal((page.match(/data-differs="true"/g) ?? []).length, j.differing.length);
  assert.match(page, /<img alt="faces grid" src="compare\.png">/);
  assert.ok(existsSync(path.join(path.dirname(j.page), 'compare.png')));
});

test('the table marks each differing setting, bolds the best score and folds the shared settings away', () => {
  const run = (name: string, psnr: number, lr: number) => ({
    name, modelDir: name, checkpoint: name, step: 10, minutes: 1, history: [],
    settings: { 'train.adam.learningRate': lr, 'model.latentSize': 64 },
    eval: {
      checkpoint: name, step: 10,
      reconstruction: { a: { psnr, ssim: 0.5, faces: 2, source: 'held-out' as const }, b: { psnr: psnr - 1, ssim: 0.5, faces: 2, source: 'held-out' as const } },
      swap: {
        identityTransfer: { a2b: null, b2a: null }, verification: { a2b: null, b2a: null }, descriptorDistance: { a2b: null, b2a: null, realA: null, realB: null },
        sharpness: { a2b: null, b2a: null }, landmarkError: { a2b: null, b2a: null }, preview: null, truth: null,
      },
    },
  });
  const c = { runs: [run('one', 20, 1e-4), run('two', 22, 2e-3)], differing: ['train.adam.learningRate'], grid: null, faces: { a: '', b: '' } } as unknown as RunComparison;
  const html = runsTableHtml(c);
  assert.equal((html.match(/data-differs="true"/g) ?? []).length, 1);
  assert.match(html, /data-differs="true"[^>]*><th[^>]*>train\.adam\.learningRate<\/th><td[^>]*>0\.0001<\/td>/);
  assert.match(html, /reconstruction A, PSNR dB<\/th><td[^>]*>20\.00<\/td><td[^>]*font-weight:bold[^>]*>22\.00<\/td>/);
  assert.match(html, /<details><summary>1 setting shared by every run<\/summary>/);
});
