// Faults a user meets, each through the real CLI: a SIGKILL mid-run then the same command again
// (extract, samples, swap; train and scrape have theirs in train-cli / scrape-cli), a full disk
// (injected with DEEPFAKE_FAULT_ENOSPC, see lib/util/fsutil.ts), and an output folder the user cannot
// write (run as user nobody through setpriv).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../../lib/engine/backend';
import type { AlignmentsFile } from '../../lib/faces/alignments';
import { disposeAutoencoder } from '../../lib/model/builder';
import { presetConfig } from '../../lib/model/config';
import { latestCheckpoint, loadCheckpoint } from '../../lib/train/checkpoint';
import { TrainingSession } from '../../lib/train/session';
import { runCli, sleep, startCli, waitFor } from '../helpers/cli';
import { PROJECT_ROOT } from '../helpers/shared';
import { syntheticFaces } from '../train-fixtures';

const BIN = path.join(PROJECT_ROOT, 'bin', 'deepfake-lab.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deepfake-lab-faults-'));
/** A few built-in sample photos of person A: the input of extract and swap. */
const photos = path.join(tmp, 'photos');
let model: string;


/** Every file under dir, relative, sorted. */
function tree(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
}

/** Leftovers of interrupted writers: `.NAME.PID.N.tmp` files (lib/util/fsutil.ts), `.tmp-*` folders. */
function temps(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => /(^|\/)\..*\.tmp$/.test(f) || /(^|\/)\.tmp-/.test(f));
}

const countFiles = (dir: string, re: RegExp) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => re.test(n)).length : 0);

/**
 * Kill `args` with SIGKILL once `started` says it is working, at a moment a temporary file is in
 * `watch` when one shows up within a second (mid-write), then run the same command again to completion.
 * Returns how many temporary files the kill left (a planted one stands in when it left none, so
 * the rerun's clean-up is always exercised).
 */
async function killThenRerun(args: string[], started: () => boolean, watch: string): Promise<number> {
  const run = startCli(args);
  await waitFor(started, 60_000);
  await waitFor(() => fs.readdirSync(watch).some((n) => n.endsWith('.tmp')), 1000, 1).catch(() => undefined);
  run.child.kill('SIGKILL');
  const killed = await run.done;
  assert.equal(killed.signal, 'SIGKILL', `it was still working when killed: ${killed.stderr}`);
  const left = temps(watch).length;
  if (left === 0) fs.writeFileSync(path.join(watch, '.planted.png.99999.0.tmp'), 'half');
  const r = runCli(args);
  assert.equal(r.status, 0, r.stderr);
  return left;
}

before(async () => {
  const s = runCli(['samples', '--out', path.join(tmp, 'samples'), '--count', '8', '--pairs', '0']);
  assert.equal(s.status, 0, s.stderr);
  fs.mkdirSync(photos);
  const raw = path.join(tmp, 'samples', 'a', 'raw');
  for (const f of fs.readdirSync(raw).filter((n) => /\.(jpg|png)$/.test(n))) fs.copyFileSync(path.join(raw, f), path.join(photos, f));
  // A tiny model, as test/integration/swap-cli.test.ts makes one: two steps on synthetic faces.
  await initBackend();
  const faces = await syntheticFaces(4, 32);
  model = faces.model;
  const session = await TrainingSession.open({ modelDir: model, data: { a: faces.a, b: faces.b }, config: presetConfig('tiny', { mask: true }), settings: { batchSize: 2, holdout: 0, cropFraction: 0.75 } });
  await session.trainStep();
  await session.trainStep();
  await session.saveCheckpoint();
  session.dispose();
});

test('samples: SIGKILL mid-run, then the same command: the same bytes as an uninterrupted run', { timeout: 120_000 }, async (t) => {
  const args = (out: string) => ['samples', '--out', out, '--count', '40', '--pairs', '4', '--seed', '3'];
  const whole = path.join(tmp, 'samples-whole');
  assert.equal(runCli(args(whole)).status, 0);
  const out = path.join(tmp, 'samples-killed');
  const raw = path.join(out, 'a', 'raw');
  t.diagnostic(`the kill left ${await killThenRerun(args(out), () => countFiles(raw, /^a-\d+\.(jpg|png)$/) >= 3, raw)} temporary files`);
  assert.deepEqual(temps(out), []);
  assert.deepEqual(tree(out), tree(whole));
  for (const f of tree(whole)) assert.ok(fs.readFileSync(path.join(out, f)).equals(fs.readFileSync(path.join(whole, f))), `${f}: same bytes`);
  for (const m of ['a/raw/manifest.jsonl', 'b/raw/manifest.jsonl', 'truth/manifest.jsonl']) {
    const files = fs.readFileSync(path.join(out, m), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { file: string }).file);
    assert.equal(new Set(files).size, files.length, `${m}: one line per file`);
  }
});

test('extract: SIGKILL mid-run, then the same command: one record and one crop per photo', { timeout: 120_000 }, async (t) => {
  const args = (out: string) => ['extract', '--in', photos, '--out', out];
  const whole = path.join(tmp, 'faces-whole');
  assert.equal(runCli(args(whole)).status, 0);
  const out = path.join(tmp, 'faces-killed');
  t.diagnostic(`the kill left ${await killThenRerun(args(out), () => countFiles(out, /\.png$/) >= 2, out)} temporary files`);
  assert.deepEqual(temps(out), []);
  assert.deepEqual(tree(out), tree(whole));
  const read = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'alignments.json'), 'utf8')) as AlignmentsFile;
  const records = read(out).images.map((r) => r.file);
  assert.equal(new Set(records).size, records.length, 'one record per photo');
  assert.deepEqual(records, fs.readdirSync(photos).sort());
  const crops = (d: AlignmentsFile) => d.images.map((r) => [r.file, r.faces.map((f) => f.file)]);
  assert.deepEqual(crops(read(out)), crops(read(whole)));
});

test('swap: SIGKILL mid-run, then the same command: one output per photo', { timeout: 180_000 }, async (t) => {
  const args = (out: string) => ['swap', '--model', model, '--to', 'b', '--in', photos, '--out', out];
  const whole = path.join(tmp, 'swap-whole');
  const w = runCli(args(whole));
  assert.equal(w.status, 0, w.stderr);
  assert.ok(tree(whole).length >= 4, `most photos swapped: ${tree(whole).join(', ')}`);
  const out = path.join(tmp, 'swap-killed');
  t.diagnostic(`the kill left ${await killThenRerun(args(out), () => countFiles(out, /\.png$/) >= 2, out)} temporary files`);
  assert.deepEqual(temps(out), []);
  assert.deepEqual(tree(out), tree(whole), 'the same outputs, none doubled (no -swapped names)');
});

test('train: a full disk at a checkpoint: one line, no half checkpoint, the previous one loads', { timeout: 120_000 }, async () => {
  const d = await syntheticFaces(6, 16);
  const args = (steps: number) => ['train', '--a', d.a, '--b', d.b, '--model', d.model, '--preset', 'tiny', '--size', '16', '--batch', '2', '--steps', String(steps), '--checkpoint-every', '2', '--preview-every', '0'];
  assert.equal(runCli(args(4)).status, 0);
  const r = runCli(args(8), { DEEPFAKE_FAULT_ENOSPC: `${path.sep}checkpoints${path.sep}` });
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => /no space|ENOSPC|disk full/i.test(l));
  assert.equal(lines.length, 1, r.stderr);
  assert.equal(lines[0], `train: disk full (no space left on device) writing ${path.join(d.model, 'checkpoints', 'step-00000006')}`);
  assert.deepEqual(temps(d.model), []);
  assert.deepEqual(fs.readdirSync(path.join(d.model, 'checkpoints')).sort(), ['step-00000002', 'step-00000004'], 'the two whole checkpoints before it stay');
  const ck = await loadCheckpoint(latestCheckpoint(d.model)!);
  assert.equal(ck.state.step, 4);
  disposeAutoencoder(ck.ae);
  for (const o of Object.values(ck.optimizers)) o.dispose();
});

test('extract: a full disk at a crop: one line naming it, no half-written file', { timeout: 60_000 }, () => {
  const input = path.join(tmp, 'three');
  fs.mkdirSync(input);
  for (const f of fs.readdirSync(photos).sort().slice(0, 3)) fs.copyFileSync(path.join(photos, f), path.join(input, f));
  const out = path.join(tmp, 'faces-full');
  const crop = `${fs.readdirSync(input).sort()[1].replace(/\.[^.]+$/, '')}_0.png`;
  const r = runCli(['extract', '--in', input, '--out', out], { DEEPFAKE_FAULT_ENOSPC: crop }, 60_000);
  assert.equal(r.status, 1, r.stderr);
  assert.deepEqual(r.stderr.split('\n').filter((l) => /no space|ENOSPC|disk full/i.test(l)), [`extract: disk full (no space left on device) writing ${path.join(out, crop)}`]);
  assert.deepEqual(temps(out), []);
  assert.ok(!fs.existsSync(path.join(out, crop)));
});

/** Why this test cannot run as user nobody here, or false. */
function nobodyUnavailable(): string | false {
  if (process.getuid?.() !== 0) return 'not running as root (setpriv needs root to become nobody)';
  if (!fs.existsSync('/usr/bin/setpriv')) return '/usr/bin/setpriv is missing';
  const probe = `const fs = require('fs'); for (const p of ${JSON.stringify([BIN, path.join(PROJECT_ROOT, 'node_modules', 'tsx', 'dist'), path.join(PROJECT_ROOT, 'lib', 'cli.ts')])}) fs.accessSync(p, fs.constants.R_OK);`;
  const r = spawnSync('/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', probe], { encoding: 'utf8' });
  return r.status === 0 ? false : `user nobody cannot read the project (${PROJECT_ROOT}): ${r.stderr.trim().split('\n').find((l) => /Error/.test(l)) ?? r.status}`;
}

test('an output folder the user cannot write is refused up front: exit 2, one line', { skip: nobodyUnavailable(), timeout: 180_000 }, () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'deepfake-lab-nobody-'));
  fs.chmodSync(root, 0o755);
  // Made by root, mode 0755: nobody may read it, not write it.
  const locked = path.join(root, 'locked');
  fs.mkdirSync(locked, { mode: 0o755 });
  fs.chmodSync(locked, 0o755);
  const home = path.join(root, 'home');
  fs.mkdirSync(home);
  fs.chownSync(home, 65534, 65534);
  // The inputs nobody needs to read (the photos and the model under os.tmpdir() are 0755/0644 from root).
  for (const p of [tmp, photos, model]) fs.chmodSync(p, 0o755);
  const asNobody = (args: string[]) =>
    spawnSync('/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, ...args], {
      cwd: root,
      env: { ...process.env, HOME: home },
      encoding: 'utf8',
      timeout: 60_000,
    });
  const cases: Array<[string, (out: string) => string[]]> = [
    ['extract', (out) => ['extract', '--in', photos, '--out', out]],
    ['train', (out) => ['train', '--a', photos, '--b', photos, '--model', out, '--steps', '1']],
    ['swap', (out) => ['swap', '--model', model, '--to', 'b', '--in', photos, '--out', out]],
    ['samples', (out) => ['samples', '--out', out, '--count', '1']],
    ['scrape', (out) => ['scrape', '--from', photos, '--out', out]],
  ];
  for (const [name, args] of cases) {
    // The folder itself (exists, not writable), and a missing one whose parent is not writable.
    for (const out of [locked, path.join(locked, `${name}-new`)]) {
      const r = asNobody(args(out));
      assert.equal(r.status, 2, `${name} --out ${out}: ${r.stderr}`);
      assert.equal(r.stderr.trim(), `${name}: cannot write to ${out} (permission denied)`);
    }
  }
  assert.deepEqual(fs.readdirSync(locked), [], 'nothing was written');
});
