// Files read from disk and API replies go through a schema: a corrupt or foreign file is one line
// naming it (and the field), stages that can rebuild theirs do, and valid files read as before.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { z } from 'zod';
import { initBackend } from '../../lib/engine/backend';
import { ALIGNMENTS_FILE, readAlignments } from '../../lib/faces/alignments';
import { extractFaces } from '../../lib/faces/extract';
import { CorruptFile, parseJson, parseJsonLines, readJsonFile } from '../../lib/util/jsonfile';
import { CONFIG_JSON } from '../../lib/model/store';
import { scrape } from '../../lib/scrape/downloader';
import { Manifest } from '../../lib/scrape/manifest';
import { wikimediaProvider } from '../../lib/scrape/wikimedia';
import { latestCheckpoint, loadCheckpoint } from '../../lib/train/checkpoint';
import { appendHistory, historyFile, readHistory, type HistoryEntry } from '../../lib/train/history';
import { runTraining } from '../../lib/train/run';
import { TrainingSession } from '../../lib/train/session';
import { cleanupTemps, FixtureServer, sendBytes, tempRoot } from '../fixtures/scrape/harness';
import { syntheticFaces, tinyConfig } from '../train-fixtures';

after(cleanupTemps);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deepfake-lab-jsonfile-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const Point = z.object({ x: z.number(), label: z.string() });
const oneLine = (s: string) => assert.ok(!s.includes('\n'), `one line: ${JSON.stringify(s)}`);

test('parseJsonLines: a truncated last line is tolerated without a problem', () => {
  const r = parseJsonLines('{"x":1,"label":"a"}\n{"x":2,"label":"b"}\n{"x":3,"lab', Point, 'points.jsonl');
  assert.deepEqual(r.records, [{ x: 1, label: 'a' }, { x: 2, label: 'b' }]);
  assert.deepEqual(r.problems, []);
  assert.equal(r.truncatedLast, true);
});

test('parseJsonLines: a corrupt middle line is left out and reported naming the file and line 2', () => {
  const r = parseJsonLines('{"x":1,"label":"a"}\n{"x":2,"lab\n{"x":3,"label":"c"}\n', Point, 'points.jsonl');
  assert.deepEqual(r.records.map((p) => p.x), [1, 3]);
  assert.equal(r.problems.length, 1);
  assert.match(r.problems[0], /^points\.jsonl: line 2 is not valid JSON/);
  oneLine(r.problems[0]);
  assert.equal(r.truncatedLast, false);
});

test('parseJsonLines: a record with a field of the wrong type is reported with the field', () => {
  const r = parseJsonLines('{"x":1,"label":"a"}\n{"x":"two","label":"b"}\n', Point, 'points.jsonl');
  assert.deepEqual(r.records.map((p) => p.x), [1]);
  assert.equal(r.problems.length, 1);
  assert.match(r.problems[0], /^points\.jsonl: line 2 is not a valid record, at x: expected number/);
  assert.deepEqual(r.damaged, [{ line: 2, why: r.damaged[0].why }]);
});

test('parseJson and readJsonFile: invalid JSON and a wrong shape are a one-line CorruptFile naming the file and field', () => {
  const file = path.join(tmp, 'thing.json');
  fs.writeFileSync(file, '{"x": 1, "label": ');
  assert.throws(() => readJsonFile(file, Point), (e: Error) => {
    assert.ok(e instanceof CorruptFile);
    assert.equal(e.file, file);
    assert.equal(e.kind, 'syntax');
    assert.ok(e.message.startsWith(`${file}: not valid JSON`), e.message);
    oneLine(e.message);
    return true;
  });
  fs.writeFileSync(file, JSON.stringify({ items: [{ x: 1, label: 'a' }, { x: 2, label: null }] }));
  assert.throws(() => readJsonFile(file, z.object({ items: z.array(Point) })), (e: Error) => {
    assert.ok(e instanceof CorruptFile && e.kind === 'shape');
    assert.match(e.message, /thing\.json: .*at items\[1\]\.label: expected string, received null/);
    oneLine(e.message);
    return true;
  });
  assert.deepEqual(parseJson('{"x": 5, "label": "ok", "extra": true}', Point, 'inline'), { x: 5, label: 'ok' });
});

const entry = (step: number): HistoryEntry => ({ step, loss: { a: 0.1, b: 0.2 }, lr: 1e-4, facesPerSecond: 10, prepMs: 1, stepMs: 5, time: '2026-01-01T00:00:00.000Z' });

test('history.jsonl with a corrupt middle line: the valid entries are read, the damage is reported once', () => {
  const dir = path.join(tmp, 'history-model');
  for (const s of [1, 2]) appendHistory(dir, entry(s));
  fs.appendFileSync(historyFile(dir), '{"step": 3, "loss": {"a": 0.1\n');
  appendHistory(dir, entry(4));
  fs.appendFileSync(historyFile(dir), '{"step": 5, "lo'); // a kill mid-write: tolerated quietly
  const warnings: string[] = [];
  const history = readHistory(dir, (line) => warnings.push(line));
  assert.deepEqual(history.map((e) => e.step), [1, 2, 4]);
  assert.equal(warnings.length, 1);
  assert.ok(warnings[0].startsWith(`${historyFile(dir)}: line 3 is not valid JSON`), warnings[0]);
  // A diverged step's NaN loss is stored as null and still reads as an entry.
  fs.writeFileSync(historyFile(dir), JSON.stringify({ ...entry(1), loss: { a: NaN, b: 0.2 } }) + '\n');
  const [nan] = readHistory(dir, () => assert.fail('a NaN loss is not damage'));
  assert.ok(Number.isNaN(nan.loss.a));
});

test('scrape manifest: a damaged middle line is reported and left out; a torn tail is cut so the next line is not lost', async () => {
  const dir = path.join(tmp, 'manifest');
  fs.mkdirSync(dir);
  const rec = (url: string) => JSON.stringify({ status: 'skipped', url, page: null, provider: 'urls', query: null, title: null, licence: null, licenceUrl: null, author: null, reason: 'timeout', detail: '', retryable: false, time: '' });
  fs.writeFileSync(path.join(dir, 'manifest.jsonl'), `${rec('http://x/1')}\n{"status":"kept","url":3}\n${rec('http://x/3')}\n{"status":"sk`);
  const m = await Manifest.open(dir);
  assert.equal(m.problems.length, 1);
  assert.match(m.problems[0], /manifest\.jsonl: line 2 is not a valid record/);
  assert.equal(m.badLines, 2, 'the damaged line and the torn tail');
  assert.ok(m.settled('http://x/1') && m.settled('http://x/3'));
  await m.append(JSON.parse(rec('http://x/4')) as Parameters<Manifest['append']>[0]);
  const again = await Manifest.open(dir);
  assert.ok(again.settled('http://x/4'), 'the record appended after the torn tail is read back');
  assert.equal(again.badLines, 1);
});

test('a corrupt checkpoint state.json or config.json: loading fails with one line naming the file', { timeout: 120_000 }, async () => {
  await initBackend();  // whichever runs: the extract test above may have started native
  const data = await syntheticFaces(6, 16);
  const s = await TrainingSession.open({ modelDir: data.model, data: { a: data.a, b: data.b }, config: tinyConfig(), settings: { batchSize: 4 }, log: () => undefined });
  await runTraining(s, { steps: 1, checkpointEvery: 100, previewEvery: 0, stream: null });
  s.dispose();
  const ckpt = latestCheckpoint(data.model)!;
  assert.equal((await loadCheckpoint(ckpt)).state.step, 1, 'loads while intact');

  const state = path.join(ckpt, 'state.json');
  const good = fs.readFileSync(state, 'utf8');
  fs.writeFileSync(state, good.slice(0, good.length / 2));
  await assert.rejects(loadCheckpoint(ckpt), (e: Error) => e instanceof CorruptFile && e.file === state && !e.message.includes('\n'));
  await assert.rejects(TrainingSession.open({ modelDir: data.model, data: { a: data.a, b: data.b } }), (e: Error) => e.message.startsWith(`${state}: not valid JSON`));
  fs.writeFileSync(state, good.replace(/"step":1,/, '"step":"one",'));
  await assert.rejects(loadCheckpoint(ckpt), (e: Error) => e instanceof CorruptFile && /state\.json: .*at step: expected number/.test(e.message));
  fs.writeFileSync(state, good);

  const config = path.join(ckpt, CONFIG_JSON);
  const text = fs.readFileSync(config, 'utf8');
  // A checkpoint records each file's size and checksum: an edited config.json is damaged, by name.
  fs.writeFileSync(config, text.replace(/"inputSize": 16/, '"inputSize": 32'));
  await assert.rejects(loadCheckpoint(ckpt), (e: Error) => e instanceof CorruptFile && e.file === config && /sha256 differs/.test(e.message));
  // One saved before checksums were recorded is read through config.json's schema instead.
  const unverified = JSON.parse(good) as Record<string, unknown>;
  delete unverified.files;
  fs.writeFileSync(state, JSON.stringify(unverified));
  fs.writeFileSync(config, text.replace(/"inputSize": 16/, '"inputSize": "16"'));
  await assert.rejects(loadCheckpoint(ckpt), (e: Error) => e instanceof CorruptFile && e.file === config && /at inputSize: expected number/.test(e.message));
  fs.writeFileSync(config, text.replace(/"inputSize": 16/, '"inputSize": 15'));
  await assert.rejects(loadCheckpoint(ckpt), (e: Error) => e instanceof CorruptFile && e.file === config && /inputSize 15 must be a multiple/.test(e.message));
});

test('a wikimedia reply without `query` is one line naming the provider and URL, not a TypeError; an empty search is no error', async () => {
  let reply = JSON.stringify({ warnings: { main: 'unrecognised parameter' } });
  const server = await FixtureServer.start({ '/w/api.php': (req, res) => sendBytes(reply, 'application/json')(req, res, 0) });
  const out = path.join(tempRoot('jsonfile-wiki'), 'raw');
  const run = () => scrape({ provider: wikimediaProvider({ query: 'x', baseUrl: server.url('/w/api.php') }), out, limit: 2, progress: { stream: null }, http: { timeoutMs: 3000, retries: 0, perHostIntervalMs: 0 } });
  try {
    await assert.rejects(run(), (e: Error) => {
      assert.ok(!(e instanceof TypeError), e.message);
      assert.match(e.message, /^wikimedia: the reply from http:\/\/127\.0\.0\.1:\d+\/w\/api\.php is not of the expected shape, at query: /);
      oneLine(e.message);
      return true;
    });
    reply = JSON.stringify({ query: { pages: 'none' } });
    await assert.rejects(run(), (e: Error) => /wikimedia: .* at query\.pages: matches none of the expected forms/.test(e.message));
    // What MediaWiki answers when the search finds nothing: no `query` at all.
    reply = JSON.stringify({ batchcomplete: true });
    const s = await run();
    assert.equal(s.candidates, 0);
  } finally {
    await server.close();
  }
});
