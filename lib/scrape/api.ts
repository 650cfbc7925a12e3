// Fetching a provider's search API: JSON or HTML pages, small, and the first request fails fast
// when the host cannot be reached instead of retrying for minutes.

import type { z } from 'zod';
import { CorruptFile, parseJson } from '../util/jsonfile';
import { FetchFailed } from './http';
import { ProviderUnreachable, type SearchContext } from './provider';

const MAX_API_BYTES = 10 * 1024 * 1024;
/** Connect/answer limit for the first request of a run: a dead network is reported quickly. */
const FIRST_CONTACT_TIMEOUT_MS = 10_000;

export async function fetchApiText(ctx: SearchContext, provider: string, url: URL, first: boolean, accept = 'application/json'): Promise<string> {
  try {
    const r = await ctx.http.get(url.href, {
      maxBytes: MAX_API_BYTES,
      accept,
      signal: ctx.signal,
      retryUnreachable: !first,
      timeoutMs: first ? Math.min(FIRST_CONTACT_TIMEOUT_MS, ctx.http.options.timeoutMs) : undefined,
    });
    return r.bytes.toString('utf8');
  } catch (e) {
    if (first && e instanceof FetchFailed && (e.extra.unreachable || e.reason === 'timeout')) throw new ProviderUnreachable(provider, url.host, e.detail);
    if (e instanceof FetchFailed) throw new Error(`${provider}: search request failed (${e.message})`);
    throw e;
  }
}

/**
 * A JSON reply parsed into the schema's type. Not JSON, or JSON of another shape (an API that
 * changed, a proxy's error page), is one line naming the provider and the URL's host and path.
 */
export async function fetchApiJson<S extends z.ZodType>(ctx: SearchContext, provider: string, url: URL, first: boolean, schema: S): Promise<z.infer<S>> {
  const text = await fetchApiText(ctx, provider, url, first);
  const where = `${url.origin}${url.pathname}`;
  try {
    return parseJson(text, schema, where);
  } catch (e) {
    if (!(e instanceof CorruptFile)) throw e;
    if (e.kind === 'syntax') throw new Error(`${provider}: the search API at ${url.host} did not answer JSON (${JSON.stringify(text.slice(0, 80))})`);
    throw new Error(`${provider}: the reply from ${where} is ${e.why}`);
  }
}
