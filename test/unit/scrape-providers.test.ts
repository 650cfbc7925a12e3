// Every provider against a loopback server that answers like the real API (fixtures written from
// the MediaWiki, Openverse and Bing documentation/markup), serving real photos from ../shared.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { scrape, type ScrapeOptions } from '../../lib/scrape/downloader';
import { wikimediaProvider } from '../../lib/scrape/wikimedia';
import { openverseProvider } from '../../lib/scrape/openverse';
import { bingProvider, BING_NOTICE } from '../../lib/scrape/bing';
import { folderProvider } from '../../lib/scrape/folder';
import { urlListProvider } from '../../lib/scrape/urls';
import type { KeptRecord, ManifestRecord } from '../../lib/scrape/manifest';
import { cleanupTemps, FixtureServer, fixture, listTree, readManifest, sendBytes, tempRoot } from '../fixtures/scrape/harness';
import { sharedPath, skipWithoutShared } from '../helpers/shared';

after(cleanupTemps);
const LFW = 'data/lfw-pair';
const BAD = 'data/bad-inputs';
const skip = skipWithoutShared(LFW) || skipWithoutShared(BAD);
const powell = (n: number) => fs.readFileSync(path.join(sharedPath(LFW)!, 'Colin_Powell', `Colin_Powell_${String(n).padStart(4, '0')}.jpg`));
const FAST: ScrapeOptions['http'] = { timeoutMs: 3000, retries: 1, backoffMs: 10, perHostIntervalMs: 0 };
const quiet = { progress: { stream: null } } as const;

function byUrl(out: string): Map<string, ManifestRecord> {
  return new Map(readManifest(out).map((r) => [r.url as string, r as unknown as ManifestRecord]));
}

function assertOnlyHashNames(out: string): void {
  for (const f of listTree(out)) assert.match(f, /^([0-9a-f]{16}\.(jpg|png|webp|gif|tif|avif)|manifest\.jsonl)$/, `unexpected entry ${f}`);
}

test('wikimedia: Commons search API, licence/author/page recorded, metadata filters before downloading', { skip }, async () => {
  let params: URLSearchParams | null = null;
  const server = await FixtureServer.start();
  server.route('/w/api.php', (req, res) => {
    params = new URL(req.url!, server.base).searchParams;
    const body = fixture(params.has('gsroffset') ? 'wikimedia-page2.json' : 'wikimedia-page1.json', server.base);
    sendBytes(body, 'application/json; charset=utf-8')(req, res, 0);
  });
  server.route('/upload/thumb/a/ab/Colin_Powell_official_portrait.jpg/1024px-Colin_Powell_official_portrait.jpg', sendBytes(powell(1), 'image/jpeg'));
  server.route('/upload/e/ee/Colin_Powell_2004.jpg', sendBytes(powell(2), 'image/jpeg'));
  server.route('/upload/f/ff/Colin_Powell_official_portrait_(copy).jpg', sendBytes(powell(1), 'image/jpeg'));
  server.route('/upload/g/gg/Colin_Powell_2005.jpg', sendBytes(powell(3), 'image/jpeg'));
  const out = path.join(tempRoot('wiki'), 'raw');
  try {
    const provider = wikimediaProvider({ query: 'Colin Powell', baseUrl: server.url('/w/api.php') });
    const s = await scrape({ provider, out, limit: 10, concurrency: 1, http: FAST, contact: 'tests@example.org', ...quiet });
    assert.equal(s.downloaded, 3);
    assert.deepEqual(s.skipped, { 'too small': 1, 'svg is not a photo input': 1, 'unsupported format': 1, duplicate: 1 });
    const p = params as URLSearchParams | null;
    assert.ok(p);
    assert.equal(p.get('generator'), 'search');
    assert.equal(p.get('gsrnamespace'), '6');
    assert.equal(p.get('prop'), 'imageinfo');
    assert.match(p.get('iiprop') ?? '', /url.*size.*mime.*extmetadata/);
    assert.match(p.get('gsrsearch') ?? '', /^Colin Powell/);
    assert.ok(server.hits.every((h) => /^deepfake-lab\/\S+ \(.*tests@example\.org\)/.test(h.userAgent)), 'User-Agent names the tool and a contact');
    // Refused from the API's metadata: never requested.
    for (const p of ['/upload/c/cc/Colin_Powell_at_the_podium.jpg', '/upload/b/bb/Colin_Powell_signature.svg', '/upload/d/dd/Colin_Powell_speech_transcript.pdf'])
      assert.equal(server.count(p), 0, p);
    const records = byUrl(out);
    assert.equal(records.size, 7, 'one record per candidate');
    const portrait = records.get(server.url('/upload/thumb/a/ab/Colin_Powell_official_portrait.jpg/1024px-Colin_Powell_official_portrait.jpg')) as KeptRecord;
    assert.equal(portrait.status, 'kept');
    assert.equal(portrait.licence, 'CC BY-SA 4.0');
    assert.equal(portrait.licenceUrl, 'https://creativecommons.org/licenses/by-sa/4.0');
    assert.equal(portrait.author, 'Example Photographer & Second Author');
    assert.equal(portrait.page, 'https://commons.wikimedia.org/wiki/File:Colin_Powell_official_portrait.jpg');
    assert.equal(portrait.title, 'Colin Powell official portrait');
    assert.equal(portrait.query, 'Colin Powell');
    assert.deepEqual([portrait.width, portrait.height, portrait.format], [250, 250, 'jpeg']);
    assert.match(portrait.sha256, /^[0-9a-f]{64}$/);
    assert.match(portrait.phash, /^[0-9a-f]{16}$/);
    assert.ok(fs.existsSync(path.join(out, portrait.file)));
    const copy = records.get(server.url('/upload/f/ff/Colin_Powell_official_portrait_(copy).jpg'));
    assert.equal(copy?.status === 'skipped' && copy.duplicateOf, portrait.file);
    assertOnlyHashNames(out);
  } finally {
    await server.close();
  }
});

test('openverse: licence and version, creator and landing page recorded; a dead link is a named skip', { skip }, async () => {
  const server = await FixtureServer.start({
    '/v1/images/': (req, res) => {
      const page = new URL(req.url!, server.base).searchParams.get('page');
      sendBytes(fixture(`openverse-page${page}.json`, server.base), 'application/json')(req, res, 0);
    },
    '/media/flickr/12345678_abcdef_b.jpg': sendBytes(powell(4), 'image/jpeg'),
    '/media/wikimedia/Colin_Powell_portrait.jpg': sendBytes(powell(5), 'image/jpeg'),
    '/media/flickr/87654321_fedcba_b.jpg': sendBytes(powell(6), 'image/jpeg'),
  });
  const out = path.join(tempRoot('openverse'), 'raw');
  try {
    const provider = openverseProvider({ query: 'Colin Powell', baseUrl: server.url('/v1/images/') });
    const s = await scrape({ provider, out, limit: 10, http: FAST, ...quiet });
    assert.equal(s.downloaded, 3);
    assert.deepEqual(s.skipped, { 'svg is not a photo input': 1, 'http error': 1 });
    const api = server.hits.filter((h) => h.path.startsWith('/v1/images/')).map((h) => new URL(h.path, server.base).searchParams);
    assert.deepEqual(api.map((p) => p.get('page')), ['1', '2'], 'stops at page_count');
    assert.equal(api[0].get('q'), 'Colin Powell');
    const records = byUrl(out);
    assert.equal(records.size, 5);
    const flickr = records.get(server.url('/media/flickr/12345678_abcdef_b.jpg')) as KeptRecord;
    assert.deepEqual([flickr.licence, flickr.licenceUrl, flickr.author, flickr.page], ['CC BY 2.0', 'https://creativecommons.org/licenses/by/2.0/', 'US Embassy', 'https://www.flickr.com/photos/example/12345678/']);
    assert.equal((records.get(server.url('/media/wikimedia/Colin_Powell_portrait.jpg')) as KeptRecord).licence, 'CC0 1.0');
    assert.equal((records.get(server.url('/media/flickr/87654321_fedcba_b.jpg')) as KeptRecord).licence, 'CC BY-NC-SA 2.0');
    const gone = records.get(server.url('/media/flickr/gone.jpg'));
    assert.ok(gone?.status === 'skipped' && gone.reason === 'http error' && /404/.test(gone.detail) && !gone.retryable);
    assertOnlyHashNames(out);
  } finally {
    await server.close();
  }
});

test('bing: full-size URLs from the results page, no licence, the terms-of-use notice shown', { skip }, async () => {
  const server = await FixtureServer.start({
    '/images/search': (req, res) => {
      const first = new URL(req.url!, server.base).searchParams.get('first');
      sendBytes(fixture(first === '1' ? 'bing-page1.html' : 'bing-page2.html', server.base), 'text/html; charset=utf-8')(req, res, 0);
    },
    '/ext/news/powell-speech.jpg': sendBytes(powell(7), 'image/jpeg'),
    '/ext/blog/powell%202004.jpg': sendBytes(powell(8), 'image/jpeg'),
    '/ext/shop/poster.jpg': sendBytes(powell(9), 'image/jpeg'),
  });
  const out = path.join(tempRoot('bing'), 'raw');
  const logs: string[] = [];
  try {
    const provider = bingProvider({ query: 'colin powell', baseUrl: server.url('/images/search') });
    const s = await scrape({ provider, out, limit: 10, http: FAST, log: (l) => logs.push(l), ...quiet });
    assert.equal(s.downloaded, 3);
    assert.deepEqual(s.skipped, {});
    assert.ok(logs.includes(BING_NOTICE));
    assert.equal(server.count('/ext/not-a-result.jpg'), 0, 'only result anchors are followed');
    const speech = byUrl(out).get(server.url('/ext/news/powell-speech.jpg')) as KeptRecord;
    assert.deepEqual([speech.licence, speech.page, speech.title], [null, 'https://news.example.org/powell-speech', 'Colin Powell speaks']);
    assertOnlyHashNames(out);
  } finally {
    await server.close();
  }
});

test('urls: a list file, comments and blank lines ignored, repeated lines fetched once', { skip }, async () => {
  const server = await FixtureServer.start({ '/a.jpg': sendBytes(powell(10), 'image/jpeg'), '/b.jpg': sendBytes(powell(11), 'image/jpeg') });
  const root = tempRoot('urls');
  const list = path.join(root, 'list.txt');
  fs.writeFileSync(list, `# photos\n\n${server.url('/a.jpg')}\r\n  ${server.url('/b.jpg')}  \n${server.url('/a.jpg')}\n`);
  try {
    const s = await scrape({ provider: urlListProvider(list), out: path.join(root, 'raw'), limit: 10, http: FAST, ...quiet });
    assert.equal(s.downloaded, 2);
    assert.deepEqual(s.skipped, { 'repeated url': 1 });
    assert.equal(server.count('/a.jpg'), 1);
    assert.equal(readManifest(path.join(root, 'raw')).length, 2);
    // Again with the same limit: the folder already has enough, so nothing is requested at all.
    const hits = server.hits.length;
    const again = await scrape({ provider: urlListProvider(list), out: path.join(root, 'raw'), limit: 2, http: FAST, ...quiet });
    assert.deepEqual([again.downloaded, again.kept, server.hits.length], [0, 2, hits]);
  } finally {
    await server.close();
  }
});

test('folder: every file of bad-inputs ends as its README expects; copies, same manifest', { skip }, async () => {
  const dir = sharedPath(BAD)!;
  const root = tempRoot('folder');
  const out = path.join(root, 'raw');
  const before = process.memoryUsage().rss;
  const s = await scrape({ provider: folderProvider(dir), out, limit: 100, concurrency: 1, ...quiet });
  assert.ok(process.memoryUsage().rss - before < 300 * 1024 * 1024, 'the bomb was not decoded');
  const reasons = Object.fromEntries(readManifest(out).map((r) => [path.basename(decodeURIComponent(new URL(r.url as string).pathname)), r.status === 'kept' ? 'kept' : r.reason]));
  assert.deepEqual(reasons, {
    'Upper Case Ünïcode name.JPG': 'kept',
    'animated.gif': 'near duplicate',
    'cmyk.jpg': 'near duplicate',
    'decompression-bomb.png': 'too many pixels',
    'empty.jpg': 'empty file',
    'exif-rotated.jpg': 'near duplicate',
    'external-ref.svg': 'svg is not a photo input',
    'grayscale.png': 'near duplicate',
    'html-error-page.jpg': 'not an image',
    'no-face.jpg': 'kept',
    'photo.webp': 'near duplicate',
    'sixteen-bit.png': 'near duplicate',
    'text-named.jpg': 'not an image',
    'tiny-8px.jpg': 'too small',
    'truncated.jpg': 'corrupt',
    'with-alpha.png': 'near duplicate',
  });
  assert.equal(s.downloaded, 2);
  assert.equal(s.provider, 'folder');
  // The copy is byte-identical to the original; the hidden file and README are not candidates.
  const kept = readManifest(out).find((r) => r.status === 'kept' && String(r.url).endsWith('.JPG'))!;
  assert.ok(fs.readFileSync(path.join(out, kept.file as string)).equals(fs.readFileSync(path.join(dir, 'Upper Case Ünïcode name.JPG'))));
  assert.deepEqual(listTree(root).filter((f) => !f.startsWith('raw')), []);
  assertOnlyHashNames(out);
});
