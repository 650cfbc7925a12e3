// `deepfake-lab samples` as a user runs it: the JSON contract, the folder layout, same seed same
// bytes, reruns that skip, usage errors; and `eval --truth` scoring swaps against ground truth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { SampleRecord, TruthRecord } from '../../lib/samples/dataset';
import { runCli } from '../helpers/cli';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'samples-cli-'));
const lines = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown);
const bytesOf = (dir: string) => Object.fromEntries(readdirSync(dir).filter((n) => !n.endsWith('.jsonl')).map((n) => [n, readFileSync(path.join(dir, n)).toString('base64')]));

test('samples --json writes both people, a ground-truth set and manifests; same seed, same bytes; reruns skip', () => {
  const out = tmp();
  const r = runCli(['samples', '--out', out, '--count', '3', '--pairs', '2', '--seed', '5', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const j = r.json as { identities: Record<'a' | 'b', { dir: string; images: number }>; truth: { dir: string; pairs: number }; rendered: number };
  for (const id of ['a', 'b'] as const) {
    assert.equal(j.identities[id].dir, path.join(out, id, 'raw'));
    assert.equal(j.identities[id].images, 3);
    assert.equal(readdirSync(j.identities[id].dir).filter((n) => /\.(jpg|png)$/.test(n)).length, 3);
    const m = lines(path.join(j.identities[id].dir, 'manifest.jsonl')) as SampleRecord[];
    assert.equal(m.length, 3);
    assert.equal(m[0].person, id);
    assert.equal(m[0].landmarks.length, 68);
    assert.match(m[0].licence, /face-api/);
    assert.match(m[0].source.photo, /demo\/sample\d\.jpg$/);
  }
  const truth = lines(path.join(j.truth.dir, 'manifest.jsonl')) as TruthRecord[];
  assert.equal(truth.length, 2);
  assert.deepEqual(readdirSync(path.join(j.truth.dir, 'a')), readdirSync(path.join(j.truth.dir, 'b')));
  assert.equal(truth[0].params.noise, 0, 'ground truth is clean');
  assert.equal(j.rendered, 10);
  assert.match(r.stderr, /samples .*10\/10/);

  // Another folder, same seed: the same bytes. A rerun: nothing to render.
  const again = tmp();
  assert.equal(runCli(['samples', '--out', again, '--count', '3', '--pairs', '2', '--seed', '5']).status, 0);
  for (const sub of ['a/raw', 'b/raw', 'truth/a', 'truth/b']) assert.deepEqual(bytesOf(path.join(again, sub)), bytesOf(path.join(out, sub)), sub);
  assert.equal(readFileSync(path.join(again, 'a/raw/manifest.jsonl'), 'utf8'), readFileSync(path.join(out, 'a/raw/manifest.jsonl'), 'utf8'));
  const rerun = runCli(['samples', '--out', out, '--count', '3', '--pairs', '2', '--seed', '5', '--json']);
  assert.equal(rerun.json?.rendered, 0);
  assert.equal(rerun.json?.skipped, 10);
  // A smaller count removes the renders it no longer lists.
  const fewer = runCli(['samples', '--out', out, '--count', '2', '--pairs', '2', '--seed', '5', '--json']);
  assert.equal(fewer.json?.rendered, 0);
  assert.equal(readdirSync(path.join(out, 'a', 'raw')).filter((n) => /\.(jpg|png)$/.test(n)).length, 2);
});

test('samples: bad usage exits 2 with one line', () => {
  for (const args of [['samples'], ['samples', '--out', tmp(), '--count', 'x'], ['samples', '--out', tmp(), '--seed', '-1']]) {
    const r = runCli(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('eval --truth scores swaps against the ground-truth pairs (plumbing, tiny untrained model)', () => {
  const out = tmp();
  assert.equal(runCli(['samples', '--out', out, '--count', '1', '--pairs', '4']).status, 0);
  const model = path.join(out, 'model');
  // Any folder of face photos trains; the truth photos themselves keep this test small.
  const a = path.join(out, 'truth', 'a'), b = path.join(out, 'truth', 'b');
  const t = runCli(['train', '--a', a, '--b', b, '--model', model, '--preset', 'tiny', '--size', '16', '--batch', '2', '--steps', '2', '--json']);
  assert.equal(t.status, 0, t.stderr);
  const e = runCli(['eval', '--model', model, '--a', a, '--b', b, '--truth', out, '--json']);
  assert.equal(e.status, 0, e.stderr);
  type Scores = { psnr: number; ssim: number };
  const truth = (e.json as { swap: { truth: { pairs: number; a2b: Scores; b2a: Scores; unswapped: Scores } } }).swap.truth;
  assert.equal(truth.pairs, 4);
  for (const k of ['a2b', 'b2a', 'unswapped'] as const) {
    assert.ok(truth[k].psnr > 0 && truth[k].psnr < 60, `${k} PSNR ${truth[k].psnr}`);
    assert.ok(truth[k].ssim > -1 && truth[k].ssim <= 1, `${k} SSIM ${truth[k].ssim}`);
  }
  const text = runCli(['eval', '--model', model, '--a', a, '--b', b, '--truth', path.join(out, 'truth')]);
  assert.match(text.stdout, /swap vs ground truth \(4 pairs\): a->b PSNR [\d.]+ dB.*unswapped PSNR [\d.]+ dB/);
  const bad = runCli(['eval', '--model', model, '--a', a, '--b', b, '--truth', a]);
  assert.equal(bad.status, 2, bad.stderr);
});
