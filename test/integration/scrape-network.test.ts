// The real services, for a user with internet: one short reachability request per provider
// (5 s at most), then a scrape of 2 photos. Where the host cannot be reached (CI, this project's
// build machines) each test is skipped with the reason. Bing runs only on request
// (DEEPFAKE_TEST_BING=1): it scrapes a search engine, which its terms may not allow.
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import { scrape } from '../../lib/scrape/downloader';
import { createProvider } from '../../lib/scrape/providers';
import { BING_SEARCH } from '../../lib/scrape/bing';
import { OPENVERSE_API } from '../../lib/scrape/openverse';
import { WIKIMEDIA_API } from '../../lib/scrape/wikimedia';
import { userAgent } from '../../lib/scrape/user-agent';
import { cleanupTemps, readManifest, tempRoot } from '../fixtures/scrape/harness';

after(cleanupTemps);

/** null when reachable, else why not. */
async function unreachable(address: string): Promise<string | null> {
  try {
    const res = await fetch(address, { method: 'HEAD', headers: { 'user-agent': userAgent() }, signal: AbortSignal.timeout(5000) });
    await res.body?.cancel();
    return null;
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? (e as Error).message;
  }
}

async function realScrape(t: TestContext, name: 'wikimedia' | 'openverse' | 'bing', address: string, wantLicence: boolean): Promise<void> {
  const why = await unreachable(address);
  if (why) {
    t.skip(`${new URL(address).host} is unreachable (${why}): run with internet access to exercise the real ${name} API`);
    return;
  }
  const out = path.join(tempRoot(`net-${name}`), 'raw');
  const s = await scrape({ provider: createProvider({ name, query: 'Colin Powell' }), out, limit: 2, maxCandidates: 30, progress: { stream: null } });
  assert.ok(s.downloaded >= 1, `downloaded ${s.downloaded}, skipped ${JSON.stringify(s.skipped)}`);
  const kept = readManifest(out).filter((r) => r.status === 'kept');
  for (const r of kept) {
    assert.ok(r.page, 'a page is recorded');
    if (wantLicence) assert.ok(r.licence, 'a licence is recorded');
  }
}

test('real Wikimedia Commons API (skipped when unreachable)', (t) => realScrape(t, 'wikimedia', WIKIMEDIA_API, true));
test('real Openverse API (skipped when unreachable)', (t) => realScrape(t, 'openverse', OPENVERSE_API, true));
test('real Bing results page (only with DEEPFAKE_TEST_BING=1)', async (t) => {
  if (process.env.DEEPFAKE_TEST_BING !== '1') return void t.skip('set DEEPFAKE_TEST_BING=1 to scrape Bing for real (mind its terms of use)');
  await realScrape(t, 'bing', BING_SEARCH, false);
});
