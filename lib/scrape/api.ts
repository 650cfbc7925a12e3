// Fetching a provider's search API: JSON or HTML pages, small, and the first request fails fast
// when the host cannot be reached instead of retrying for minutes.

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

export async function fetchApiJson<T>(ctx: SearchContext, provider: string, url: URL, first: boolean): Promise<T> {
  const text = await fetchApiText(ctx, provider, url, first);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`${provider}: the search API at ${url.host} did not answer JSON (${JSON.stringify(text.slice(0, 80))})`);
  }
}
