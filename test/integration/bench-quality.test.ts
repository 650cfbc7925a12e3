// `bench --quality`'s plumbing with tiny settings: the built-in people rendered and extracted into a
// cache, two recipes trained for seconds each, the JSON fields outside checks read, the comparison
// grid and chart, and the cache that lets a rerun skip finished recipes. No quality is asserted
// here: the benchmark measures it, docs/recipes.md reports it.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { mixingScore, SCORING_FRAME, toScoringFrame } from '../../lib/benchmark/quality-judge';
import { timePoints } from '../../lib/benchmark/quality';
import { decodeImage } from '../../lib/util/image';
import { runCli } from '../helpers/cli';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deepfake-lab-bq-'));
const ARGS = ['bench', '--quality', '--minutes', '0.05', '--recipe', 'classic', '--recipe', 'masked', '--count', '30', '--pairs', '6',
  '--cache', path.join(tmp, 'cache'), '--out', path.join(tmp, 'out'), '--json'];

interface Entry {
  recipe: string; minutes: number; steps: number; facesPerSecond: number;
  truth: { a2b: { psnr: number; ssim: number }; b2a: { psnr: number; ssim: number }; unswapped: { psnr: number } };
  verification: { a2b: number; b2a: number }; sharpness: { a2b: number; b2a: number };
  reconstruction: { a: { psnr: number }; b: { psnr: number } };
  overlap: { mixing: number; pairRatio: number };
  photo: { sharpness: { a2b: number }; ceiling: { a2b: number } } | null;
}
let first: { status: number | null; json: Record<string, unknown> | null; stderr: string };

before(() => {
  first = runCli(ARGS, {}, 900_000);
}, { timeout: 900_000 });

test('bench --quality trains each recipe for the budget and reports the fields outside checks read', () => {
  assert.equal(first.status, 0, first.stderr);
  const j = first.json as { quality: Entry[]; ceiling: { realVerification: { self: { a2b: number } } }; grid: string; chart: string; runs: Array<{ cached: boolean }> };
  assert.deepEqual(j.quality.map((e) => e.recipe), ['classic', 'masked'], 'one entry per recipe and time point (a budget under 2 minutes has one)');
  for (const e of j.quality) {
    assert.equal(e.minutes, 0.05);
    assert.ok(e.steps > 0 && e.facesPerSecond > 0, `${e.recipe} trained`);
    for (const d of ['a2b', 'b2a'] as const) {
      assert.ok(e.truth[d].psnr > 5 && e.truth[d].psnr < 60 && e.truth[d].ssim > -1 && e.truth[d].ssim <= 1, `${e.recipe} truth ${d}`);
      assert.ok(e.verification[d] >= 0 && e.verification[d] <= 1);
      assert.ok(e.sharpness[d] > 0);
    }
    assert.ok(e.truth.unswapped.psnr > 5);
    assert.ok(e.reconstruction.a.psnr > 5 && e.reconstruction.b.psnr > 5);
    assert.ok(e.overlap.mixing >= 0 && e.overlap.pairRatio > 0);
    assert.ok(e.photo && e.photo.sharpness.a2b > 0 && e.photo.ceiling.a2b > 0, 'the swap scored inside whole photos');
  }
  assert.ok(j.ceiling.realVerification.self.a2b >= 0.5, 'most real faces of B verify as B');
  assert.deepEqual(j.runs.map((r) => r.cached), [false, false]);
  assert.ok(fs.readFileSync(j.chart, 'utf8').includes('data-deepfake-lab-plotly'), 'the chart page embeds plotly');
});

test('the comparison grid has the source, the truth and one column per recipe', async () => {
  const j = first.json as { grid: string };
  const img = await decodeImage(j.grid);
  assert.equal(img.width, 4 * 128, 'source, truth, classic, masked');
  assert.equal(img.height, 12 * (128 + 14), '6 truth pairs each way, captioned');
});

test('a rerun takes every finished recipe from the cache', () => {
  const again = runCli(ARGS, {}, 300_000);
  assert.equal(again.status, 0, again.stderr);
  const j = again.json as { quality: Entry[]; runs: Array<{ cached: boolean }> };
  assert.deepEqual(j.runs.map((r) => r.cached), [true, true]);
  assert.deepEqual(j.quality, (first.json as { quality: Entry[] }).quality, 'the same numbers');
});

test('a corrupt cached result is named in one line, its recipe run again and the file replaced', () => {
  const runs = path.join(tmp, 'cache', 'runs');
  const dir = fs.readdirSync(runs).find((d) => d.startsWith('classic-'))!;
  const result = path.join(runs, dir, 'result.json');
  fs.writeFileSync(result, fs.readFileSync(result, 'utf8').replace(/"entries": \[/, '"entries": {'));
  const again = runCli(ARGS, {}, 300_000);
  assert.equal(again.status, 0, again.stderr);
  const named = again.stderr.split('\n').filter((l) => l.includes(result));
  assert.equal(named.length, 1, again.stderr);
  assert.match(named[0], /not valid JSON.*running classic again/);
  assert.deepEqual((again.json as { runs: Array<{ cached: boolean }> }).runs.map((r) => r.cached), [false, true]);
  assert.doesNotThrow(() => JSON.parse(fs.readFileSync(result, 'utf8')), 'the file was written again');
});

test('bad usage: an unknown recipe, --a without --b, an unknown precision', () => {
  const r = runCli(['bench', '--quality', '--recipe', 'nonsense']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--recipe must be one of/);
  const half = runCli(['bench', '--quality', '--a', tmp]);
  assert.equal(half.status, 2);
  assert.match(half.stderr, /--a and --b go together/);
  const fp16 = runCli(['bench', '--quality', '--precision', 'fp16']);
  assert.equal(fp16.status, 2);
  assert.match(fp16.stderr, /--precision must be fp32 or bf16, got fp16/);
});

test('time points: 2 and 5 minutes when inside the budget, and the end', () => {
  assert.deepEqual(timePoints(10), [2, 5, 10]);
  assert.deepEqual(timePoints(3), [2, 3]);
  assert.deepEqual(timePoints(0.1), [0.1]);
});

test('the scoring frame: a 128 px face at crop 1 is cut to its centre 0.75 and halved; 64 px at 0.75 is kept', async () => {
  await initBackend({ force: 'wasm' });
  const big = tf.tidy(() => tf.linspace(0, 1, 128).reshape([1, 1, 128, 1]).tile([1, 128, 1, 3]) as tf.Tensor4D);
  const framed = toScoringFrame(big, 1);
  assert.deepEqual(framed.shape, [1, SCORING_FRAME.size, SCORING_FRAME.size, 3]);
  const row = framed.slice([0, 0, 0, 0], [1, 1, -1, 1]).dataSync();
  // The centre 96 of 128 columns: from column 16 to 112, i.e. values 16/127 .. 111/127.
  assert.ok(Math.abs(row[0] - 16.5 / 127) < 0.01 && Math.abs(row[63] - 110.5 / 127) < 0.01, `${row[0]} .. ${row[63]}`);
  const same = tf.zeros([2, 64, 64, 3]) as tf.Tensor4D;
  assert.equal(toScoringFrame(same, 0.75).shape[1], 64);
  assert.throws(() => toScoringFrame(same, 0.5), /does not cover/);
  tf.dispose([big, framed, same]);
});

test('code mixing: 0 for two far-apart clouds, about 1 for one cloud split in two', () => {
  const cloud = (c: number, n: number, seed: number) => Array.from({ length: n }, (_, i) => [c + Math.sin(i * 7.1 + seed), c + Math.cos(i * 3.7 + seed)]);
  assert.equal(mixingScore(cloud(0, 20, 1), cloud(100, 20, 2)), 0);
  const one = cloud(0, 40, 3);
  const mixed = mixingScore(one.filter((_, i) => i % 2 === 0), one.filter((_, i) => i % 2 === 1));
  assert.ok(mixed > 0.6 && mixed < 1.4, `${mixed}`);
});
