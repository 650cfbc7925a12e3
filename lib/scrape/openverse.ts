// Openverse (openly licensed media, by WordPress.org): GET /v1/images/?q=...; every result names its
// licence, creator and landing page. Anonymous clients get at most 20 results a page and a few
// pages; a refusal after the first page ends the search rather than the run.
// API: https://api.openverse.org/v1/

import { z } from 'zod';
import { fetchApiJson } from './api';
import type { Candidate, Provider, SearchContext, SearchOptions } from './provider';

export const OPENVERSE_API = 'https://api.openverse.org/v1/images/';

export interface OpenverseOptions extends SearchOptions {
  pageSize?: number;
}


// The fields read here, checked: another shape is one line naming the field, not a TypeError.
const OpenverseImageSchema = z.object({
  url: z.string().nullish(),
  title: z.string().nullish(),
  foreign_landing_url: z.string().nullish(),
  creator: z.string().nullish(),
  license: z.string().nullish(),
  license_version: z.string().nullish(),
  license_url: z.string().nullish(),
  filetype: z.string().nullish(),
  filesize: z.number().nullish(),
  width: z.number().nullish(),
  height: z.number().nullish(),
});
const OpenverseResponseSchema = z.object({ page_count: z.number().optional(), results: z.array(OpenverseImageSchema) });
type OpenverseImage = z.infer<typeof OpenverseImageSchema>;
type OpenverseResponse = z.infer<typeof OpenverseResponseSchema>;

const MIME: Record<string, string> = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp', svg: 'image/svg+xml' };

export function openverseProvider(o: OpenverseOptions): Provider {
  const base = o.baseUrl ?? OPENVERSE_API;
  return {
    name: 'openverse',
    query: o.query,
    async *candidates(ctx: SearchContext) {
      for (let page = 1; page <= (o.maxPages ?? 12); page++) {
        const url = new URL(base);
        url.searchParams.set('q', o.query);
        url.searchParams.set('page', String(page));
        url.searchParams.set('page_size', String(o.pageSize ?? 20));
        let res: OpenverseResponse;
        try {
          res = await fetchApiJson(ctx, 'openverse', url, page === 1, OpenverseResponseSchema);
        } catch (e) {
          if (page === 1) throw e;
          ctx.log(`openverse: no more pages (${(e as Error).message})`);
          return;
        }
        const results = res.results;
        for (const r of results) if (r.url) yield toCandidate(r, r.url);
        if (results.length === 0 || page >= (res.page_count ?? page)) return;
      }
    },
  };
}

/** "by-sa" + "2.0" -> "CC BY-SA 2.0"; cc0 and pdm have their own names. */
export function openverseLicence(license: string | null | undefined, version: string | null | undefined): string | null {
  if (!license) return null;
  const v = version ? ` ${version}` : '';
  if (license.toLowerCase() === 'cc0') return `CC0${v}`;
  if (license.toLowerCase() === 'pdm') return `Public Domain Mark${v}`;
  return `CC ${license.toUpperCase()}${v}`;
}

function toCandidate(r: OpenverseImage, url: string): Candidate {
  return {
    url,
    page: r.foreign_landing_url ?? null,
    title: r.title ?? null,
    licence: openverseLicence(r.license, r.license_version),
    licenceUrl: r.license_url ?? null,
    author: r.creator ?? null,
    hints: { mime: r.filetype ? MIME[r.filetype.toLowerCase()] ?? `image/${r.filetype}` : null, width: r.width, height: r.height, bytes: r.filesize },
  };
}
