// Wikimedia Commons: full-text search over the File namespace (ns 6) through the MediaWiki API,
// with licence, author and file page from each file's extmetadata. Photos only ("filetype:bitmap"),
// and a scaled thumbnail (default 1024 px wide) instead of multi-megabyte originals: enough for
// faces and kinder to Wikimedia's servers.
// API: https://commons.wikimedia.org/w/api.php?action=help&modules=query+imageinfo

import { z } from 'zod';
import { fetchApiJson } from './api';
import { htmlToText } from './html';
import type { Candidate, Provider, SearchContext, SearchOptions } from './provider';

export const WIKIMEDIA_API = 'https://commons.wikimedia.org/w/api.php';

export interface WikimediaOptions extends SearchOptions {
  /** Width of the thumbnail to download; 0 downloads originals. */
  maxWidth?: number;
  /** Results per API request (the API allows up to 50 for anonymous clients). */
  pageSize?: number;
}

// The reply's fields this provider reads. Each is checked, so that another shape (an API change,
// a proxy's page) is one line naming the field rather than a TypeError somewhere below.

const ImageInfoSchema = z.object({
  url: z.string().optional(),
  descriptionurl: z.string().optional(),
  thumburl: z.string().optional(),
  thumbwidth: z.number().optional(),
  thumbheight: z.number().optional(),
  width: z.number().optional(),
  height: z.number().optional(),
  size: z.number().optional(),
  mime: z.string().optional(),
  // Free-form metadata: a value of another type is treated as absent, not as a broken reply.
  extmetadata: z.record(z.string(), z.object({ value: z.string().optional().catch(undefined) }).optional().catch(undefined)).optional(),
});
const WikiPageSchema = z.object({ title: z.string().optional(), index: z.number().optional(), imageinfo: z.array(ImageInfoSchema).optional() });
const QueryResponseSchema = z
  .object({
    /** Present when the search found nothing: the reply then has no `query`. */
    batchcomplete: z.boolean().optional(),
    continue: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
    query: z.object({ pages: z.union([z.array(WikiPageSchema), z.record(z.string(), WikiPageSchema)]).optional() }).optional(),
    error: z.object({ code: z.string().optional(), info: z.string().optional() }).optional(),
  })
  .refine((r) => r.query !== undefined || r.error !== undefined || r.batchcomplete !== undefined, { message: 'expected a query result or an error', path: ['query'] });
type WikiPage = z.infer<typeof WikiPageSchema>;

export function wikimediaProvider(o: WikimediaOptions): Provider {
  const base = o.baseUrl ?? WIKIMEDIA_API;
  const maxWidth = o.maxWidth ?? 1024;
  return {
    name: 'wikimedia',
    query: o.query,
    async *candidates(ctx: SearchContext) {
      let cont: Record<string, string | number> = {};
      for (let page = 0; page < (o.maxPages ?? 20); page++) {
        const url = new URL(base);
        const params: Record<string, string> = {
          action: 'query',
          format: 'json',
          formatversion: '2',
          generator: 'search',
          gsrsearch: `${o.query} filetype:bitmap`,
          gsrnamespace: '6',
          gsrlimit: String(o.pageSize ?? 50),
          prop: 'imageinfo',
          iiprop: 'url|size|mime|extmetadata',
          iiextmetadatafilter: 'LicenseShortName|LicenseUrl|Artist|ObjectName',
          ...(maxWidth > 0 ? { iiurlwidth: String(maxWidth) } : {}),
        };
        for (const [k, v] of Object.entries({ ...params, ...cont })) url.searchParams.set(k, String(v));
        const res = await fetchApiJson(ctx, 'wikimedia', url, page === 0, QueryResponseSchema);
        if (res.error) throw new Error(`wikimedia: API error ${res.error.code ?? ''}: ${res.error.info ?? ''}`);
        const raw = res.query?.pages ?? [];
        // formatversion=2 gives an array; the older format an object keyed by page id.
        const pages = (Array.isArray(raw) ? raw : Object.values(raw)).slice().sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
        for (const p of pages) {
          const c = toCandidate(p, maxWidth);
          if (c) yield c;
        }
        if (!res.continue) return;
        cont = res.continue;
      }
    },
  };
}

function toCandidate(p: WikiPage, maxWidth: number): Candidate | null {
  const ii = p.imageinfo?.[0];
  if (!ii?.url) return null;
  const meta = ii.extmetadata ?? {};
  const text = (key: string) => {
    const v = meta[key]?.value;
    return v ? htmlToText(v) || null : null;
  };
  // The API only scales down: below maxWidth thumburl is the original size anyway.
  const useThumb = maxWidth > 0 && ii.thumburl && (ii.width ?? 0) > maxWidth;
  return {
    url: useThumb ? ii.thumburl! : ii.url,
    page: ii.descriptionurl ?? null,
    title: text('ObjectName') ?? p.title?.replace(/^File:/, '') ?? null,
    licence: text('LicenseShortName'),
    licenceUrl: text('LicenseUrl'),
    author: text('Artist'),
    hints: useThumb
      ? { mime: ii.mime, width: ii.thumbwidth, height: ii.thumbheight }
      : { mime: ii.mime, width: ii.width, height: ii.height, bytes: ii.size },
  };
}
