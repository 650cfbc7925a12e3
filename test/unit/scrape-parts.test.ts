// The scraper's small parts on their own: Retry-After, perceptual hash, licences, Bing markup,
// URL and content-type checks, the manifest's resume rules, the rate limiter, the User-Agent.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { decodeImage } from '../../lib/util/image';
import { parseBingResults } from '../../lib/scrape/bing';
import { refuseContentType } from '../../lib/scrape/check';
import { FetchFailed, HttpClient, parseRetryAfter } from '../../lib/scrape/http';
import { Manifest, type SkipRecord } from '../../lib/scrape/manifest';
import { openverseLicence } from '../../lib/scrape/openverse';
import { hammingDistance, NEAR_DUPLICATE_BITS, perceptualHash } from '../../lib/util/phash';
import { HostRateLimiter } from '../../lib/scrape/rate-limit';
import { checkHttpUrl } from '../../lib/scrape/url-safety';
import { userAgent } from '../../lib/scrape/user-agent';
import { cleanupTemps, FixtureServer, tempRoot } from '../fixtures/scrape/harness';
import { sharedPath, skipWithoutShared } from '../helpers/shared';

after(cleanupTemps);
const LFW = 'data/lfw-pair';

test('Retry-After: seconds or an HTTP date; anything else is ignored', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('7', now), 7000);
  assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now), 0);
  assert.equal(parseRetryAfter('soon', now), null);
  assert.equal(parseRetryAfter(null, now), null);
});

test('perceptual hash: re-encoded and resized copies are near, different photos are far', { skip: skipWithoutShared(LFW) }, async () => {
  const file = (who: string, n: number) => path.join(sharedPath(LFW)!, who, `${who}_${String(n).padStart(4, '0')}.jpg`);
  const original = fs.readFileSync(file('Colin_Powell', 1));
  const h = await perceptualHash(await decodeImage(original));
  assert.match(h, /^[0-9a-f]{16}$/);
  for (const copy of [await sharp(original).jpeg({ quality: 35 }).toBuffer(), await sharp(original).resize(160).webp().toBuffer(), await sharp(original).resize(500).png().toBuffer()])
    assert.ok(hammingDistance(h, await perceptualHash(await decodeImage(copy))) <= NEAR_DUPLICATE_BITS);
  for (const [who, n] of [['Colin_Powell', 2], ['Colin_Powell', 3], ['George_W_Bush', 1], ['George_W_Bush', 2]] as const)
    assert.ok(hammingDistance(h, await perceptualHash(await decodeImage(file(who, n)))) > NEAR_DUPLICATE_BITS, `${who} ${n}`);
  assert.equal(hammingDistance('0f', 'f0'), 8);
});

test('Openverse licence codes become readable names', () => {
  assert.equal(openverseLicence('by-nc-sa', '2.0'), 'CC BY-NC-SA 2.0');
  assert.equal(openverseLicence('cc0', '1.0'), 'CC0 1.0');
  assert.equal(openverseLicence('pdm', '1.0'), 'Public Domain Mark 1.0');
  assert.equal(openverseLicence('by', null), 'CC BY');
  assert.equal(openverseLicence(null, '1.0'), null);
});

test('Bing markup: only result anchors, entity-escaped JSON decoded, broken ones skipped', () => {
  const html =
    '<a class="iusc" m="{&quot;murl&quot;:&quot;https://a.example/x.jpg?a=1&amp;b=2&quot;,&quot;purl&quot;:&quot;https://a.example/&quot;,&quot;t&quot;:&quot;A &amp;amp; B&quot;}" href="#"></a>' +
    '<a class="iusc" m="{broken" href="#"></a><a class="other" m="{&quot;murl&quot;:&quot;https://b.example/y.jpg&quot;}"></a>' +
    '<a href="#" class="iusc big" m="{&#34;murl&#34;:&#34;https://c.example/z.png&#34;}"></a>';
  assert.deepEqual(
    parseBingResults(html).map((c) => [c.url, c.page, c.title]),
    [
      ['https://a.example/x.jpg?a=1&b=2', 'https://a.example/', 'A & B'],
      ['https://c.example/z.png', null, null],
    ],
  );
});

test('only http(s) URLs are fetched; only image or generic content types are read', () => {
  for (const bad of ['file:///etc/passwd', 'javascript:alert(1)', 'data:image/png;base64,AAAA', 'ftp://x.example/a.jpg', '../../etc/passwd.jpg', ''])
    assert.equal(checkHttpUrl(bad).ok, false, bad);
  assert.equal(checkHttpUrl('https://upload.wikimedia.org/a.jpg').ok, true);
  for (const ok of [null, 'image/jpeg', 'IMAGE/PNG; q=1', 'application/octet-stream']) assert.equal(refuseContentType(ok), null, String(ok));
  for (const no of ['text/html; charset=utf-8', 'application/json', 'video/mp4']) assert.match(refuseContentType(no) ?? '', /not an image/);
});

test('manifest: a torn last line is tolerated, the latest record wins, transient failures are retried', async () => {
  const dir = tempRoot('manifest');
  const skipRec = (url: string, reason: string, retryable: boolean): SkipRecord => ({
    status: 'skipped', url, page: null, provider: 'urls', query: null, title: null, licence: null, licenceUrl: null, author: null, reason, detail: '', retryable, time: '',
  });
  const lines = [skipRec('http://x/1', 'timeout', true), skipRec('http://x/2', 'not an image', false), skipRec('http://x/3', 'timeout', true), skipRec('http://x/3', 'corrupt', false)];
  fs.writeFileSync(path.join(dir, 'manifest.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n{"status":"kept","url":"http://x/4","fi');
  const m = await Manifest.open(dir);
  assert.equal(m.badLines, 1);
  assert.equal(m.settled('http://x/1'), null, 'a timeout is tried again');
  assert.equal(m.settled('http://x/2')?.status, 'skipped');
  assert.equal((m.settled('http://x/3') as SkipRecord).reason, 'corrupt');
  assert.equal(m.settled('http://x/4'), null, 'the torn record does not count');
});

test('rate limiter: one start per interval per host, hosts independent, pause honoured', async () => {
  const limiter = new HostRateLimiter(60);
  const t0 = Date.now();
  await Promise.all([limiter.acquire('a'), limiter.acquire('a'), limiter.acquire('a')]);
  const a = Date.now() - t0;
  assert.ok(a >= 110 && a < 400, `three starts on one host took ${a} ms`);
  const t1 = Date.now();
  await limiter.acquire('b');
  assert.ok(Date.now() - t1 < 30, 'another host does not wait');
  limiter.pause('b', 150);
  const t2 = Date.now();
  await limiter.acquire('b');
  assert.ok(Date.now() - t2 >= 140, 'paused host waits');
});

test('a Retry-After longer than we are willing to wait ends the attempts at once', async () => {
  const server = await FixtureServer.start({ '/x.jpg': (_req, res) => void res.writeHead(429, { 'retry-after': '3600' }).end() });
  try {
    const client = new HttpClient({ retries: 5, perHostIntervalMs: 0, maxRetryAfterMs: 10_000 });
    const t0 = Date.now();
    await assert.rejects(client.get(server.url('/x.jpg'), { maxBytes: 1000 }), (e: unknown) => e instanceof FetchFailed && e.reason === 'rate limited' && /3600 s/.test(e.detail));
    assert.ok(Date.now() - t0 < 1000);
    assert.equal(server.count('/x.jpg'), 1);
  } finally {
    await server.close();
  }
});

test('User-Agent names the tool, its version and the operator contact', () => {
  const version = (JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  assert.match(userAgent('me@example.org'), new RegExp(`^deepfake-lab/${version.replace(/\./g, '\\.')} \\(.*me@example\\.org\\) Node\\.js/`));
  assert.match(userAgent(''), /set DEEPFAKE_LAB_CONTACT/);
});
