// Which URLs the scraper will request. Only http(s): a URL list or a search result must never make
// it read a local file (file:), run code (javascript:) or embed data (data:).

export type UrlCheck = { ok: true; url: URL } | { ok: false; detail: string };

export function checkHttpUrl(raw: string, base?: string): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    return { ok: false, detail: `not a URL: ${JSON.stringify(raw.slice(0, 100))}` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, detail: `${url.protocol} URLs are not fetched` };
  return { ok: true, url };
}
