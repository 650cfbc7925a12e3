// Bing image search, by reading its results page. OPTIONAL AND DIFFERENT IN KIND: this scrapes a
// search engine's HTML, which has no API contract (it can break any day) and whose terms of use
// the user must read and respect; results carry no licence, so the user must check each image's
// rights on its page before using it. Each result anchor (class "iusc") holds an HTML-escaped JSON
// attribute `m` with murl (the full-size image), purl (the page it is on) and t (its title).

import { fetchApiText } from './api';
import { decodeEntities, htmlToText } from './html';
import type { Candidate, Provider, SearchContext, SearchOptions } from './provider';

export const BING_SEARCH = 'https://www.bing.com/images/search';
export const BING_NOTICE =
  'bing: scraping a search engine results page; you must respect its terms of use, and the images carry no licence: check each one on its page before using it';

const PAGE = 35;

export function bingProvider(o: SearchOptions): Provider {
  const base = o.baseUrl ?? BING_SEARCH;
  return {
    name: 'bing',
    query: o.query,
    async *candidates(ctx: SearchContext) {
      ctx.log(BING_NOTICE);
      const seen = new Set<string>();
      for (let page = 0; page < (o.maxPages ?? 10); page++) {
        const url = new URL(base);
        url.searchParams.set('q', o.query);
        url.searchParams.set('first', String(1 + page * PAGE));
        url.searchParams.set('count', String(PAGE));
        const html = await fetchApiText(ctx, 'bing', url, page === 0, 'text/html');
        const found = parseBingResults(html).filter((c) => !seen.has(c.url));
        for (const c of found) {
          seen.add(c.url);
          yield c;
        }
        if (found.length === 0) return;
      }
    },
  };
}

/** Image candidates from a Bing results page (exported for tests). */
export function parseBingResults(html: string): Candidate[] {
  const out: Candidate[] = [];
  for (const tag of html.match(/<a\b[^>]*\bclass="[^"]*\biusc\b[^"]*"[^>]*>/g) ?? []) {
    const m = /\sm="([^"]*)"/.exec(tag);
    if (!m) continue;
    let meta: { murl?: unknown; purl?: unknown; t?: unknown };
    try {
      meta = JSON.parse(decodeEntities(m[1])) as typeof meta;
    } catch {
      continue;
    }
    if (typeof meta.murl !== 'string') continue;
    out.push({
      url: meta.murl,
      page: typeof meta.purl === 'string' ? meta.purl : null,
      title: typeof meta.t === 'string' ? htmlToText(meta.t) : null,
      licence: null,
    });
  }
  return out;
}
