// The timelapse: the previews training keeps (across resumed runs, minus a killed run's lost
// steps) assembled into one animation with the step on each frame (`train --timelapse`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync } from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { evenly, writeTimelapse } from '../../lib/lab/timelapse';
import { previewFrames } from '../../lib/train/preview';
import { runCli } from '../helpers/cli';
import { syntheticFaces } from '../train-fixtures';

const TINY = ['--preset', 'tiny', '--size', '16', '--batch', '2', '--lr', '0.001'];

test('evenly keeps the first and the last and spreads the rest', () => {
  assert.deepEqual(evenly([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 3), [1, 6, 11]);
  assert.deepEqual(evenly([1, 2, 3], 5), [1, 2, 3]);
  assert.deepEqual(evenly([1, 2, 3], 1), [3]);
});

test('train --timelapse animates every kept preview of the folder, across a resumed run, without the steps a killed run lost', { timeout: 240_000 }, async () => {
  const d = await syntheticFaces(8, 24);
  const train = (steps: string, ...more: string[]) => runCli(['train', '--a', d.a, '--b', d.b, '--model', d.model, ...TINY, '--steps', steps, '--preview-every', '2', '--checkpoint-every', '100', ...more, '--json']);
  const first = train('6');
  assert.equal(first.status, 0, first.stderr);
  assert.deepEqual(previewFrames(d.model).map((p) => p.step), [2, 4, 6]);
  // A preview from beyond the checkpoint, as a run killed after step 6 would leave.
  const stale = path.join(d.model, 'previews', 'step-00000009.png');
  copyFileSync(path.join(d.model, 'previews', 'step-00000006.png'), stale);

  const second = train('10', '--timelapse');
  assert.equal(second.status, 0, second.stderr);
  assert.ok(!existsSync(stale), 'the lost step\'s preview is gone');
  const file = (second.json as { timelapse: string }).timelapse;
  assert.equal(file, path.join(d.model, 'previews', 'timelapse.gif'));
  const grid = await sharp(path.join(d.model, 'previews', 'step-00000010.png')).metadata();
  const gif = await sharp(file, { animated: true }).metadata();
  assert.equal(gif.format, 'gif');
  assert.equal(gif.pages, 5, 'steps 2, 4, 6, 8 and 10');
  assert.equal(gif.width, (grid.width ?? 0) * 2, 'enlarged twice');
  assert.equal(gif.pageHeight, (grid.height ?? 0) * 2 + 18, 'each frame: the grid under a bar naming the step');
  assert.deepEqual(gif.delay, [200, 200, 200, 200, 2000], 'the last frame is held');

  const webp = await writeTimelapse(d.model, { format: 'webp', maxFrames: 3 });
  assert.deepEqual(webp?.steps, [2, 6, 10]);
  const meta = await sharp(webp!.file, { animated: true }).metadata();
  assert.deepEqual([meta.format, meta.pages, meta.pageHeight], ['webp', 3, (grid.height ?? 0) * 2 + 18]);
});

test('train --timelapse with a single preview exits 0: no timelapse (null in the JSON), one line on stderr says why', async () => {
  const d = await syntheticFaces(4, 16);
  // The default --preview-every (100) over 3 steps: only the last step's preview.
  const r = runCli(['train', '--a', d.a, '--b', d.b, '--model', d.model, ...TINY, '--steps', '3', '--timelapse', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(previewFrames(d.model).map((p) => p.step), [3]);
  assert.equal((r.json as { timelapse: unknown }).timelapse, null);
  assert.equal(r.stderr.split('\n').filter((l) => /timelapse/.test(l)).length, 1, r.stderr);
  assert.match(r.stderr, /no timelapse.*1 preview.*--preview-every/);
  assert.ok(!existsSync(path.join(d.model, 'previews', 'timelapse.gif')));
  assert.equal(await writeTimelapse(d.model), null, 'one frame is nothing to animate');
});
