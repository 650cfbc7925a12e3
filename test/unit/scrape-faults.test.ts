// The downloader against a hostile server: every fault of the list, in one run through the
// URL-list provider, each ending as ../shared/data/bad-inputs/README.md expects (a named skip or a
// correct keep), nothing written outside the output folder, one manifest record per candidate.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import type * as http from 'http';
import * as path from 'path';
import sharp from 'sharp';
import { scrape } from '../../lib/scrape/downloader';
import type { KeptRecord, ManifestRecord, SkipRecord } from '../../lib/scrape/manifest';
import { urlListProvider } from '../../lib/scrape/urls';
import { cleanupTemps, FixtureServer, listTree, readManifest, sendBytes, tempRoot, type Handler } from '../fixtures/scrape/harness';
import { sharedPath, skipWithoutShared } from '../helpers/shared';

after(cleanupTemps);
const LFW = 'data/lfw-pair';
const BAD = 'data/bad-inputs';
const skip = skipWithoutShared(LFW) || skipWithoutShared(BAD);
const bush = (n: number) => fs.readFileSync(path.join(sharedPath(LFW)!, 'George_W_Bush', `George_W_Bush_${String(n).padStart(4, '0')}.jpg`));
const bad = (name: string) => fs.readFileSync(path.join(sharedPath(BAD)!, name));
const TIMEOUT_MS = 300;
const MAX_BYTES = 1024 * 1024;

/** The photo after `ms`. */
const slowPhoto = (photo: Buffer, ms: number): Handler => (req, res) => {
  const t = setTimeout(() => sendBytes(photo, 'image/jpeg')(req, res, 0), ms);
  res.on('close', () => clearTimeout(t));
};
/** Headers only after `ms`: past the client's timeout. */
const slow = (ms: number): Handler => slowPhoto(bush(1), ms);
/** Fails `times` times with `status` (and headers), then serves the photo. */
const failThen = (times: number, status: number, photo: Buffer, headers: Record<string, string> = {}): Handler => (req, res, hit) => {
  if (hit <= times) {
    res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(`error ${status}`);
  } else sendBytes(photo, 'image/jpeg')(req, res, hit);
};
const redirect = (to: string): Handler => (_req, res) => {
  res.writeHead(302, { location: to }).end();
};

function drainedOrClosed(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done).off('close', done);
      resolve();
    };
    res.on('drain', done).on('close', done);
  });
}

test('faults: timeouts, retries, 429, redirect loops, lying types, oversized, broken and hostile files', { skip }, async (t) => {
  let endlessSent = 0;
  const reencoded = await sharp(bush(6)).resize(200).jpeg({ quality: 45 }).toBuffer();
  const server = await FixtureServer.start({
    '/ok/1.jpg': sendBytes(bush(2), 'image/jpeg'),
    '/ok/2.jpg': sendBytes(bush(3), 'image/jpeg'),
    '/ok/3.jpg': sendBytes(bush(6), 'image/jpeg'),
    '/slow.jpg': slow(5_000),
    '/flaky.jpg': failThen(1, 500, bush(4)),
    '/limited.jpg': failThen(1, 429, bush(5), { 'retry-after': '1' }),
    '/loop/a': redirect('/loop/b'),
    '/loop/b': redirect('/loop/a'),
    '/moved.jpg': redirect('/ok/2.jpg'),
    '/to-file.jpg': redirect('file:///etc/passwd'),
    '/wrong-type.jpg': sendBytes(bush(7), 'text/html; charset=utf-8'),
    '/html-as.jpg': sendBytes(bad('html-error-page.jpg'), 'image/jpeg'),
    '/declared-huge.jpg': (_req, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(50 * MAX_BYTES) });
      res.write(bush(8)); // then nothing: the client must refuse from the header alone
    },
    // No Content-Length: only a limit enforced while streaming stops this (bounded at 64 MiB here).
    '/endless.jpg': async (_req, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      const chunk = Buffer.alloc(64 * 1024, 0xff);
      while (!res.destroyed && endlessSent < 64 * 1024 * 1024) {
        endlessSent += chunk.length;
        if (!res.write(chunk)) await drainedOrClosed(res);
      }
      res.end();
    },
    '/truncated.jpg': sendBytes(bad('truncated.jpg'), 'image/jpeg'),
    '/bomb.png': sendBytes(bad('decompression-bomb.png'), 'image/png'),
    '/empty.jpg': sendBytes(Buffer.alloc(0), 'image/jpeg'),
    '/tiny.jpg': sendBytes(bad('tiny-8px.jpg'), 'image/jpeg'),
    '/vector.svg': sendBytes(bad('external-ref.svg'), 'image/svg+xml'),
    '/octet.webp': sendBytes(bad('photo.webp'), 'application/octet-stream'),
    '/mirror/same-bytes.jpg': sendBytes(bush(2), 'image/jpeg'),
    '/mirror/reencoded.jpg': sendBytes(reencoded, 'image/jpeg'),
    '/..%2F..%2Fetc%2Fpasswd.jpg': sendBytes(bush(9), 'image/jpeg', { 'content-disposition': 'attachment; filename="../../etc/passwd.jpg"' }),
    '/etc/passwd.jpg': sendBytes(bush(10), 'image/jpeg', { 'content-disposition': 'attachment; filename="../../../../tmp/evil.jpg"' }),
  });
  const root = tempRoot('faults');
  const out = path.join(root, 'work', 'raw');
  const list = path.join(root, 'list.txt');
  const u = (p: string) => server.url(p);
  const expected: Record<string, string> = {
    [u('/ok/1.jpg')]: 'kept',
    [u('/ok/2.jpg')]: 'kept',
    [u('/ok/3.jpg')]: 'kept',
    [u('/slow.jpg')]: 'timeout',
    [u('/flaky.jpg')]: 'kept',
    [u('/limited.jpg')]: 'kept',
    [u('/loop/a')]: 'too many redirects',
    [u('/moved.jpg')]: 'duplicate', // same bytes as /ok/2.jpg, reached through a redirect
    [u('/to-file.jpg')]: 'unsafe url',
    [u('/wrong-type.jpg')]: 'wrong content type',
    [u('/html-as.jpg')]: 'not an image',
    [u('/declared-huge.jpg')]: 'file too large',
    [u('/endless.jpg')]: 'file too large',
    [u('/truncated.jpg')]: 'corrupt',
    [u('/bomb.png')]: 'too many pixels',
    [u('/empty.jpg')]: 'empty file',
    [u('/tiny.jpg')]: 'too small',
    [u('/vector.svg')]: 'svg is not a photo input',
    [u('/octet.webp')]: 'kept',
    [u('/mirror/same-bytes.jpg')]: 'duplicate',
    [u('/mirror/reencoded.jpg')]: 'near duplicate',
    [u('/..%2F..%2Fetc%2Fpasswd.jpg')]: 'kept',
    // The URL parser resolves the dots: this is /etc/passwd.jpg on the server, an ordinary photo.
    [`${server.base}/../../etc/passwd.jpg`]: 'kept',
    [u('/missing.jpg')]: 'http error',
    ['file:///etc/passwd']: 'unsafe url',
    ['javascript:alert(1)']: 'unsafe url',
    ['not a url at all']: 'unsafe url',
  };
  // Originals before their copies, so which one is the duplicate is fixed even with 4 workers.
  fs.writeFileSync(list, Object.keys(expected).join('\n') + '\n');
  const started = Date.now();
  try {
    const before = process.memoryUsage().rss;
    const s = await scrape({
      provider: urlListProvider(list),
      out,
      limit: 100,
      concurrency: 4,
      maxBytes: MAX_BYTES,
      http: { timeoutMs: TIMEOUT_MS, retries: 2, backoffMs: 20, perHostIntervalMs: 0 },
      progress: { stream: null },
    });
    const seconds = (Date.now() - started) / 1000;
    assert.ok(process.memoryUsage().rss - before < 300 * 1024 * 1024, 'memory stayed bounded (bomb, endless body)');
    assert.ok(seconds < 10, `finished in ${seconds} s`);

    const records = readManifest(out) as unknown as ManifestRecord[];
    const outcome = Object.fromEntries(records.map((r) => [r.url, r.status === 'kept' ? 'kept' : r.reason]));
    assert.deepEqual(outcome, expected, 'every candidate has exactly its expected record');
    assert.equal(records.length, Object.keys(expected).length, 'one record per candidate');
    const keptCount = Object.values(expected).filter((v) => v === 'kept').length;
    assert.equal(s.downloaded, keptCount);
    assert.equal(s.candidates, Object.keys(expected).length);
    assert.equal(Object.values(s.skipped).reduce((a, b) => a + b, 0), Object.keys(expected).length - keptCount);

    const rec = (p: string) => records.find((r) => r.url === u(p))!;
    // Retried: the 500 and the 429 each cost one extra request; the 429 waited its Retry-After.
    assert.equal(server.count('/flaky.jpg'), 2);
    const limited = server.hits.filter((h) => h.path === '/limited.jpg');
    assert.equal(limited.length, 2);
    assert.ok(limited[1].time - limited[0].time >= 950, `Retry-After: 1 honoured (${limited[1].time - limited[0].time} ms)`);
    assert.equal(server.count('/slow.jpg'), 3, 'a timeout is retried (retries: 2), then given up');
    assert.equal((rec('/slow.jpg') as SkipRecord).retryable, true, 'a later run tries it again');
    assert.ok(server.count('/loop/a') + server.count('/loop/b') <= 6 + 1, 'redirects stop at the limit');
    assert.ok(endlessSent < 16 * MAX_BYTES, `the endless body was cut off early (${endlessSent} bytes sent)`);
    assert.match((rec('/wrong-type.jpg') as SkipRecord).detail, /text\/html/);
    assert.equal((rec('/mirror/same-bytes.jpg') as SkipRecord).duplicateOf, (rec('/ok/1.jpg') as KeptRecord).file);
    assert.equal((rec('/mirror/reencoded.jpg') as SkipRecord).duplicateOf, (rec('/ok/3.jpg') as KeptRecord).file);
    assert.equal((rec('/moved.jpg') as SkipRecord).reason, 'duplicate');
    assert.equal((rec('/octet.webp') as KeptRecord).format, 'webp');
    assert.equal(server.count('/missing.jpg'), 1, 'a 404 is not retried');

    // Nothing outside the output folder; inside, only content-hash names and the manifest.
    assert.deepEqual(listTree(root).filter((f) => !f.startsWith(path.join('work', 'raw'))), ['list.txt', 'work']);
    for (const f of listTree(out)) assert.match(f, /^([0-9a-f]{16}\.(jpg|webp)|manifest\.jsonl)$/);
    for (const r of records) if (r.status === 'kept') assert.equal(r.file, `${r.sha256.slice(0, 16)}.${r.format === 'jpeg' ? 'jpg' : r.format}`);
    assert.equal(fs.existsSync('/etc/passwd.jpg'), false);
    assert.equal(fs.existsSync('/tmp/evil.jpg'), false);
    t.diagnostic(`fault suite: ${Object.keys(expected).length} candidates in ${seconds.toFixed(2)} s; endless body cut after ${endlessSent} bytes sent`);
  } finally {
    await server.close();
  }
});

test('a second run fetches only what the manifest left retryable', { skip }, async () => {
  let slowMs = 5_000;
  const server = await FixtureServer.start({
    '/a.jpg': sendBytes(bush(11), 'image/jpeg'),
    '/gone.jpg': (_req, res) => void res.writeHead(404).end(),
    '/busy.jpg': (_req, res) => void res.writeHead(503).end(),
    '/slow.jpg': (req, res, hit) => slowPhoto(bush(12), slowMs)(req, res, hit),
  });
  const root = tempRoot('retry');
  const list = path.join(root, 'list.txt');
  fs.writeFileSync(list, ['/a.jpg', '/gone.jpg', '/busy.jpg', '/slow.jpg'].map((p) => server.url(p)).join('\n'));
  const run = () =>
    scrape({ provider: urlListProvider(list), out: path.join(root, 'raw'), limit: 10, http: { timeoutMs: 200, retries: 0, perHostIntervalMs: 0 }, progress: { stream: null } });
  try {
    const first = await run();
    assert.deepEqual(first.skipped, { 'http error': 2, timeout: 1 });
    slowMs = 0; // the server recovered
    const second = await run();
    assert.equal(second.downloaded, 1, 'the timed-out photo arrives now');
    assert.deepEqual(second.skipped, { 'already in manifest': 2, 'http error': 1 });
    assert.deepEqual([server.count('/a.jpg'), server.count('/gone.jpg'), server.count('/busy.jpg'), server.count('/slow.jpg')], [1, 1, 2, 2]);
  } finally {
    await server.close();
  }
});

test('an interrupted run (abort signal) records only finished candidates and resumes cleanly', { skip }, async () => {
  const routes: Record<string, Handler> = {};
  for (let i = 1; i <= 6; i++) routes[`/p/${i}.jpg`] = slowPhoto(bush(20 + i), 200);
  const server = await FixtureServer.start(routes);
  const root = tempRoot('abort');
  const out = path.join(root, 'raw');
  const list = path.join(root, 'list.txt');
  fs.writeFileSync(list, Object.keys(routes).map((p) => server.url(p)).join('\n'));
  const controller = new AbortController();
  const base = { provider: urlListProvider(list), out, limit: 6, concurrency: 2, http: { perHostIntervalMs: 0 } };
  try {
    const first = await scrape({ ...base, signal: controller.signal, progress: { stream: null, onUpdate: (p) => p.done >= 1 && controller.abort() } });
    assert.equal(first.interrupted, true);
    const records = readManifest(out);
    assert.ok(records.length >= 1 && records.length < 6, `${records.length} records`);
    assert.ok(records.every((r) => r.status === 'kept'), 'aborted downloads leave no skip record');
    assert.deepEqual(fs.readdirSync(out).filter((f) => f.endsWith('.tmp')), []);
    const second = await scrape({ ...base, progress: { stream: null } });
    assert.deepEqual([second.interrupted, second.kept, second.downloaded], [false, 6, 6 - records.length]);
  } finally {
    await server.close();
  }
});
