// `deepfake-lab train` and `eval` as a user runs them: the JSON contracts, usage errors, a clean
// stop on SIGINT, and SIGKILL during checkpoint writes never leaving an unloadable model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, truncateSync, statSync } from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/engine/backend';
import { autoencode, disposeAutoencoder } from '../../lib/model/builder';
import { latestCheckpoint, loadCheckpoint } from '../../lib/train/checkpoint';
import { readHistory } from '../../lib/train/history';
import { runCli, sleep, startCli, waitFor } from '../helpers/cli';
import { PROJECT_ROOT } from '../helpers/shared';
import { mulberry32 } from '../helpers/rng';
import { alignedFolder, syntheticFaces } from '../train-fixtures';
import { expectedBackend } from '../helpers/strict';

const TINY = ['--preset', 'tiny', '--size', '16', '--batch', '2', '--lr', '0.001'];

function trainArgs(d: { a: string; b: string; model: string }, ...more: string[]): string[] {
  return ['train', '--a', d.a, '--b', d.b, '--model', d.model, ...TINY, ...more];
}


test('train --json and eval --json follow the contract', async () => {
  const d = await syntheticFaces(8, 24);
  const r = runCli([...trainArgs(d, '--steps', '3', '--checkpoint-every', '2', '--preview-every', '2'), '--json']);
  assert.equal(r.status, 0, r.stderr);
  const j = r.json as Record<string, unknown>;
  assert.equal(j.steps, 3);
  assert.equal(typeof j.lossA, 'number');
  assert.equal(typeof j.lossB, 'number');
  assert.ok((j.facesPerSecond as number) > 0);
  assert.equal(j.backend, expectedBackend());
  assert.ok(existsSync(path.join(j.checkpoint as string, 'state.json')));
  assert.match(r.stderr, /step 3\/3 +loss a [\d.]+ b [\d.]+ +[\d.]+ faces\/s +ETA/);
  assert.ok(readdirSync(path.join(d.model, 'previews')).includes('step-00000002.png'));

  const e = runCli(['eval', '--model', d.model, '--a', d.a, '--b', d.b, '--json']);
  assert.equal(e.status, 0, e.stderr);
  const ej = e.json as {
    reconstruction: Record<'a' | 'b', { psnr: number; ssim: number; faces: number; source: string }>;
    swap: { identityTransfer: { a2b: number; b2a: number }; landmarkError: { a2b: number; b2a: number }; preview: string };
  };
  for (const id of ['a', 'b'] as const) {
    assert.ok(ej.reconstruction[id].psnr > 0 && ej.reconstruction[id].psnr < 60);
    assert.ok(ej.reconstruction[id].ssim > -1 && ej.reconstruction[id].ssim <= 1);
    assert.equal(ej.reconstruction[id].source, 'held-out');
    assert.ok(ej.reconstruction[id].faces >= 1);
  }
  // Swap metrics from face-api's nets: shares in [0, 1], landmark errors as fractions of the eye distance.
  for (const k of ['a2b', 'b2a'] as const) {
    assert.ok(ej.swap.identityTransfer[k] >= 0 && ej.swap.identityTransfer[k] <= 1, `identity transfer ${k}`);
    assert.ok(ej.swap.landmarkError[k] >= 0 && Number.isFinite(ej.swap.landmarkError[k]), `landmark error ${k}`);
  }
  assert.ok(existsSync(ej.swap.preview));
});

test('unusable input exits 2 with one line on stderr', async () => {
  const d = await syntheticFaces(2, 16);
  const cases = [
    ['train', '--a', d.a, '--model', d.model],
    trainArgs(d, '--preset', 'huge'),
    trainArgs({ ...d, b: path.join(d.root, 'missing') }),
    ['eval', '--model', path.join(d.root, 'no-model'), '--a', d.a, '--b', d.b],
  ];
  for (const args of cases) {
    const r = runCli(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').filter((l) => !l.startsWith('train: ')).length, 1, r.stderr);
  }
});

test('a damaged alignments.json stops train: exit 2, one line naming it and how to rebuild it', async () => {
  const d = await syntheticFaces(4, 16);
  alignedFolder(d.a, 4, 16);
  const file = path.join(d.a, 'alignments.json');
  // Cut off mid-file, as an interrupted copy leaves it.
  truncateSync(file, Math.floor(statSync(file).size / 2));
  // The default recipe (a warping decoder, which needs the landmarks) and one that draws no masks.
  for (const recipe of [[], ['--recipe', 'classic']]) {
    const r = runCli(trainArgs(d, '--steps', '2', ...recipe));
    assert.equal(r.status, 2, r.stderr);
    const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('train: '));
    assert.equal(lines.length, 1, r.stderr);
    assert.ok(lines[0].includes(file), lines[0]);
    assert.match(lines[0], /extract/);
    assert.doesNotMatch(r.stderr, /ellipse mask/);
    assert.equal(latestCheckpoint(d.model), null, 'nothing trained');
  }
});

test('SIGINT saves a checkpoint at the current step and exits 0', async () => {
  const d = await syntheticFaces(6, 16);
  const run = startCli([...trainArgs(d, '--steps', '100000', '--checkpoint-every', '100000'), '--json']);
  await waitFor(() => /step \d+\//.test(run.stderr()), 60_000);
  run.child.kill('SIGINT');
  const r = await run.done;
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(j.stopped, true);
  assert.ok(j.steps >= 1 && j.steps < 100000);
  assert.ok(j.checkpoint.endsWith(`step-${String(j.steps).padStart(8, '0')}`));
});

test('SIGKILL during checkpoint writes never leaves an unloadable model; resume continues', async (t) => {
  await initBackend({ force: 'wasm' });
  const d = await syntheticFaces(6, 16);
  const rand = mulberry32(11);
  let lastStep = 0;
  let midWrite = 0;
  const temps = () => readdirSync(path.join(d.model, 'checkpoints')).some((n) => n.startsWith('.tmp-'));
  for (let kill = 0; kill < 4; kill++) {
    // A checkpoint every step: about half of the run's time is spent writing one.
    const run = startCli(trainArgs(d, '--steps', '100000', '--checkpoint-every', '1', '--preview-every', '0'));
    // Past the slow first steps (warm-up), so the kill does not always land in training.
    await waitFor(() => {
      const c = latestCheckpoint(d.model);
      return c !== null && Number(c.slice(-8)) >= lastStep + 3;
    }, 60_000);
    // Even rounds: the moment a checkpoint's temporary folder appears. Odd rounds: any moment.
    if (kill % 2 === 0) await waitFor(temps, 30_000, 1);
    else await sleep(rand() * 500);
    run.child.kill('SIGKILL');
    await run.done;
    if (temps()) midWrite++;

    const dir = latestCheckpoint(d.model);
    assert.ok(dir, 'a checkpoint survives');
    const ck = await loadCheckpoint(dir);
    assert.ok(ck.state.step > lastStep, `progress: ${ck.state.step} after ${lastStep}`);
    lastStep = ck.state.step;
    const y = autoencode(ck.ae, tf.fill([1, 16, 16, 3], 0.5) as tf.Tensor4D, 'b');
    assert.ok((await y.data()).every(Number.isFinite));
    y.dispose();
    disposeAutoencoder(ck.ae);
    for (const o of Object.values(ck.optimizers)) o.dispose();
  }
  t.diagnostic(`${midWrite} of 4 kills landed while a checkpoint was being written`);
  assert.ok(midWrite >= 1, 'at least one kill interrupted a checkpoint write');

  const r = runCli([...trainArgs(d, '--steps', String(lastStep + 2), '--checkpoint-every', '1'), '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.json?.steps, lastStep + 2);
  assert.match(String(r.json?.resumedFrom), new RegExp(`step-0*${lastStep}$`));
  const steps = readHistory(d.model).map((e) => e.step);
  assert.deepEqual(steps, Array.from({ length: lastStep + 2 }, (_, i) => i + 1), 'the loss curve continues without gaps or repeats');
});

test('train --precision: bf16 is recorded in the checkpoint, a continued run keeps it, --precision fp32 switches back; a bad value exits 2', async (t) => {
  const d = await syntheticFaces(6, 16);
  const bad = runCli([...trainArgs(d, '--steps', '1'), '--precision', 'fp16']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--precision must be fp32 or bf16, got fp16/);
  // As the child process will see it (this process may have moved to another backend).
  const { bf16Unavailable } = await import('../../lib/engine/native/precision');
  const why = bf16Unavailable(expectedBackend());
  if (why) {
    // Where bf16 cannot run, asking for it is refused with that reason, before any training.
    const r = runCli([...trainArgs(d, '--steps', '1'), '--precision', 'bf16']);
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim().split('\n').pop(), `deepfake-lab: ${why}`);
    t.diagnostic(`bf16 unavailable here: ${why}`);
    return;
  }
  // The setting as the checkpoint's state.json records it.
  const saved = async () => (JSON.parse(readFileSync(path.join(latestCheckpoint(d.model)!, 'state.json'), 'utf8')) as { settings: { precision?: string } }).settings.precision;
  const first = runCli([...trainArgs(d, '--steps', '2', '--checkpoint-every', '2'), '--precision', 'bf16', '--json']);
  assert.equal(first.status, 0, first.stderr);
  assert.equal((first.json as { precision: string }).precision, 'bf16');
  assert.match(first.stderr, /convolutions in bf16/);
  assert.equal(await saved(), 'bf16');
  const kept = runCli([...trainArgs(d, '--steps', '4', '--checkpoint-every', '2'), '--json']);
  assert.equal(kept.status, 0, kept.stderr);
  assert.equal((kept.json as { precision: string }).precision, 'bf16');
  const back = runCli([...trainArgs(d, '--steps', '6', '--checkpoint-every', '2'), '--precision', 'fp32', '--json']);
  assert.equal(back.status, 0, back.stderr);
  assert.equal((back.json as { precision: string }).precision, 'fp32');
  assert.equal(await saved(), 'fp32');
});
