// Bing image search, by reading its results page. OPTIONAL AND DIFFERENT IN KIND: this scrapes a
// search engine's HTML, which has no API contract (it can break any day) and whose terms of use
// the user must read and respect; results carry no licence, so the user must check each image's
// rights on its page before using it. Each result anchor (class "iusc") holds an HTML-escaped JSON
// attribute `m` with murl (the full-size image), purl (the page it is on) and t (its title).

import { z } from 'zod';
import { CorruptFile, parseJson } from '../util/jsonfile';
import { fetchApiText } from './api';
import { decodeEntities, htmlToText } from './html';
import type { Candidate, Provider, SearchContext, SearchOptions } from './provider';

export const BING_SEARCH = 'https://www.bing.com/images/search';
export const BING_NOTICE =
  'bing: scraping a search engine results page; you must respect its terms of use, and the images carry no licence: check each one on its page before using it';

const PAGE = 35;

/** A result's `m` attribute: only the image URL is needed; page and title are taken when they are text. */
const ResultMetaSchema = z.object({
  murl: z.string(),
  purl: z.string().optional().catch(undefined),
  t: z.string().optional().catch(undefined),
});

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
        const problems: string[] = [];
        const found = parseBingResults(html, problems).filter((c) => !seen.has(c.url));
        if (problems.length) ctx.log(`bing: left out ${problems.length} result(s) of page ${page + 1} with unreadable metadata (${problems[0]})`);
        for (const c of found) {
          seen.add(c.url);
          yield c;
        }
        if (found.length === 0) return;
      }
    },
  };
}

/**
 * Image candidates from a Bing results page (exported for tests). A result whose metadata is not
 * JSON or has no image URL is left out; why goes into `problems` when given.
 */
export function parseBingResults(html: string, problems?: string[]): Candidate[] {
  const out: Candidate[] = [];
  for (const tag of html.match(/<a\b[^>]*\bclass="[^"]*\biusc\b[^"]*"[^>]*>/g) ?? []) {
    const m = /\sm="([^"]*)"/.exec(tag);
    if (!m) continue;
    let meta: z.infer<typeof ResultMetaSchema>;
    try {
      meta = parseJson(decodeEntities(m[1]), ResultMetaSchema, 'result metadata');
    } catch (e) {
      if (!(e instanceof CorruptFile)) throw e;
      problems?.push(e.message);
      continue;
    }
    out.push({
      url: meta.murl,
      page: meta.purl ?? null,
      title: meta.t !== undefined ? htmlToText(meta.t) : null,
      licence: null,
    });
  }
  return out;
}
