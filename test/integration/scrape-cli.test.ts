// `deepfake-lab scrape` as a user runs it: the JSON contract, exit statuses, the offline failure,
// and a run killed half way that, restarted, downloads only what is missing.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import { scrapeCommand } from '../../lib/commands/scrape';
import { UsageError } from '../../lib/commands/command';
import { commandValues } from '../../lib/cli';
import { scrape } from '../../lib/scrape/downloader';
import { ProviderUnreachable } from '../../lib/scrape/provider';
import { createProvider } from '../../lib/scrape/providers';
import { cleanupTemps, FixtureServer, fixture, readManifest, runCliAsync, sendBytes, tempRoot } from '../fixtures/scrape/harness';
import { sharedPath, skipWithoutShared } from '../helpers/shared';

after(cleanupTemps);
const LFW = 'data/lfw-pair';
const skip = skipWithoutShared(LFW);
const photo = (n: number) => fs.readFileSync(path.join(sharedPath(LFW)!, 'George_W_Bush', `George_W_Bush_${String(n).padStart(4, '0')}.jpg`));

test('scrape --json: provider, downloaded, skipped by reason, manifest (wikimedia through --base-url)', { skip }, async () => {
  const server = await FixtureServer.start({
    '/w/api.php': (req, res) => {
      const page2 = new URL(req.url!, server.base).searchParams.has('gsroffset');
      sendBytes(fixture(page2 ? 'wikimedia-page2.json' : 'wikimedia-page1.json', server.base), 'application/json')(req, res, 0);
    },
    '/upload/thumb/a/ab/Colin_Powell_official_portrait.jpg/1024px-Colin_Powell_official_portrait.jpg': sendBytes(photo(20), 'image/jpeg'),
    '/upload/e/ee/Colin_Powell_2004.jpg': sendBytes(photo(21), 'image/jpeg'),
    '/upload/f/ff/Colin_Powell_official_portrait_(copy).jpg': sendBytes(photo(22), 'image/jpeg'),
    '/upload/g/gg/Colin_Powell_2005.jpg': sendBytes(photo(23), 'image/jpeg'),
  });
  const out = path.join(tempRoot('cli'), 'raw');
  try {
    const args = ['scrape', '--provider', 'wikimedia', '--query', 'Colin Powell', '--out', out, '--limit', '3', '--base-url', server.url('/w/api.php'), '--json'];
    const r = await runCliAsync(args);
    assert.equal(r.status, 0, r.stderr);
    const j = r.json as { provider: string; downloaded: number; skipped: Record<string, number>; manifest: string; kept: number };
    assert.equal(j.provider, 'wikimedia');
    assert.equal(j.downloaded, 3, 'stops at --limit');
    assert.equal(j.kept, 3);
    assert.equal(typeof j.skipped, 'object');
    assert.equal(j.manifest, path.join(out, 'manifest.jsonl'));
    assert.equal(readManifest(out).filter((x) => x.status === 'kept').length, 3);
  } finally {
    await server.close();
  }
});

test('an unreachable provider fails fast: exit 1, one line on stderr', async () => {
  // A port that was just free: connection refused, as with no network.
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const root = tempRoot('offline');
  const r = await runCliAsync(['scrape', '--query', 'x', '--out', path.join(root, 'raw'), '--base-url', `http://127.0.0.1:${port}/w/api.php`, '--json']);
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^deepfake-lab: wikimedia: cannot reach 127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED.*\\); .*--provider folder`));
  assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
  // The other network providers, in-process (each CLI start costs seconds of imports).
  for (const name of ['openverse', 'bing'] as const) {
    const provider = createProvider({ name, query: 'x', baseUrl: `http://127.0.0.1:${port}/` });
    const started = Date.now();
    await assert.rejects(scrape({ provider, out: path.join(root, name), limit: 5, progress: { stream: null } }), (e: Error) => {
      assert.ok(e instanceof ProviderUnreachable, e.message);
      assert.match(e.message, new RegExp(`^${name}: cannot reach .*ECONNREFUSED`));
      return true;
    });
    assert.ok(Date.now() - started < 5_000, `${name} failed fast`);
  }
});

test('bad usage is refused with a one-line reason; the CLI exits 2', async () => {
  const root = tempRoot('usage');
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ provider: 'flickr', query: 'x', out: root }, /--provider must be one of wikimedia, openverse, bing, urls, folder/],
    [{ provider: 'openverse', out: root }, /needs --query/],
    [{ query: 'x' }, /--out is required/],
    [{ urls: path.join(root, 'missing.txt'), out: root }, /--urls .*not a readable file/],
    [{ from: path.join(root, 'missing'), out: root }, /--from .*not a folder/],
    [{ query: 'x', out: root, limit: '0' }, /--limit must be an integer/],
    [{ query: 'x', out: root, 'base-url': 'not a url' }, /--base-url is not a URL/],
  ];
  // Through the option declarations, as the CLI parses them (a bad --limit is refused there).
  for (const [values, message] of cases)
    await assert.rejects(async () => scrapeCommand.run(commandValues('scrape', Object.entries(values).flatMap(([k, v]) => [`--${k}`, v]))), (e: Error) => e instanceof UsageError && message.test(e.message) && !e.message.includes('\n'));
  const r = await runCliAsync(['scrape', '--provider', 'flickr', '--query', 'x', '--out', root, '--json']);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

test('a run killed half way, restarted, downloads only what is missing', { skip }, async () => {
  const N = 12;
  const routes: Record<string, (req: http.IncomingMessage, res: http.ServerResponse) => void> = {};
  for (let i = 1; i <= N; i++) {
    const bytes = photo(30 + i);
    // Slow enough that the kill lands while some downloads are still under way.
    routes[`/p/${i}.jpg`] = (req, res) => {
      const t = setTimeout(() => sendBytes(bytes, 'image/jpeg')(req, res, 0), 150);
      res.on('close', () => clearTimeout(t));
    };
  }
  const server = await FixtureServer.start(routes);
  const root = tempRoot('resume');
  const out = path.join(root, 'raw');
  const list = path.join(root, 'urls.txt');
  fs.writeFileSync(list, Array.from({ length: N }, (_, i) => server.url(`/p/${i + 1}.jpg`)).join('\n'));
  const args = ['scrape', '--urls', list, '--out', out, '--limit', String(N), '--concurrency', '2', '--json'];
  try {
    let poll: NodeJS.Timeout | undefined;
    const first = await runCliAsync(args, {
      onSpawn: (kill) => {
        const deadline = Date.now() + 30_000;
        poll = setInterval(() => {
          const kept = readManifest(out).filter((r) => r.status === 'kept').length;
          if (kept >= N / 2 - 2 || Date.now() > deadline) {
            clearInterval(poll);
            kill('SIGKILL');
          }
        }, 20);
      },
    });
    clearInterval(poll);
    assert.equal(first.signal, 'SIGKILL', 'the first run was killed, not finished');
    const keptFirst = new Set(readManifest(out).filter((r) => r.status === 'kept').map((r) => r.url as string));
    assert.ok(keptFirst.size >= 1 && keptFirst.size < N, `killed half way (${keptFirst.size} kept)`);
    const hitsFirst = server.hits.length;

    const second = await runCliAsync(args);
    assert.equal(second.status, 0, second.stderr);
    const secondPaths = server.hits.slice(hitsFirst).map((h) => server.url(h.path));
    for (const u of secondPaths) assert.ok(!keptFirst.has(u), `${u} was already kept and was fetched again`);
    assert.equal(new Set(secondPaths).size, secondPaths.length, 'each missing photo fetched once');
    assert.equal(second.json?.downloaded, N - keptFirst.size);
    assert.equal((second.json?.skipped as Record<string, number>)['already in manifest'], keptFirst.size);
    const records = readManifest(out);
    assert.equal(records.filter((r) => r.status === 'kept').length, N);
    assert.equal(new Set(records.map((r) => r.url)).size, records.length, 'one record per URL');
    const files = fs.readdirSync(out).filter((f) => f !== 'manifest.jsonl');
    assert.equal(files.length, N, `only the photos, no temporary files: ${files.join(' ')}`);
  } finally {
    await server.close();
  }
});
