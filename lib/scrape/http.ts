// HTTP GET for scraping, on Node's built-in fetch: per-attempt timeout covering headers and body,
// retries with exponential backoff on network errors, 5xx and 429 (Retry-After honoured, and the
// whole host paused), redirects followed by hand (limit, and every hop checked to be http(s)), and
// a byte limit enforced while the body streams in, so an endless body costs at most maxBytes.

import { HostRateLimiter, sleep } from './rate-limit';
import { checkHttpUrl } from './url-safety';

export type FetchFailReason =
  | 'timeout'
  | 'network error'
  | 'http error'
  | 'rate limited'
  | 'too many redirects'
  | 'unsafe url'
  | 'wrong content type'
  | 'file too large';

export class FetchFailed extends Error {
  constructor(
    readonly reason: FetchFailReason,
    readonly detail: string,
    readonly extra: { status?: number; retryable?: boolean; unreachable?: boolean; retryAfterMs?: number | null } = {},
  ) {
    super(`${reason}: ${detail}`);
    this.name = 'FetchFailed';
  }
  get retryable(): boolean {
    return this.extra.retryable ?? false;
  }
}

export interface HttpOptions {
  userAgent: string;
  /** Per attempt, from sending the request to the last body byte. */
  timeoutMs: number;
  /** Further attempts after the first, for retryable failures. */
  retries: number;
  /** First backoff; doubles each retry, with jitter, up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
  /** A Retry-After longer than this ends the attempts ('rate limited') instead of waiting. */
  maxRetryAfterMs: number;
  maxRedirects: number;
  /** Minimum time between request starts to one host. */
  perHostIntervalMs: number;
}

export const DEFAULT_HTTP: HttpOptions = {
  userAgent: 'deepfake-lab',
  timeoutMs: 30_000,
  retries: 3,
  backoffMs: 1_000,
  maxBackoffMs: 30_000,
  maxRetryAfterMs: 120_000,
  maxRedirects: 5,
  perHostIntervalMs: 250,
};

export interface GetOptions {
  maxBytes: number;
  /** Why a Content-Type is refused (checked before the body is read), or null to accept it. */
  checkType?: (contentType: string | null) => string | null;
  accept?: string;
  signal?: AbortSignal;
  /** false: a host that cannot be reached fails at once, with no retry (first contact with an API). */
  retryUnreachable?: boolean;
  timeoutMs?: number;
}

export interface Fetched {
  bytes: Buffer;
  contentType: string | null;
  /** After redirects. */
  url: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
// Errors meaning "no server there" rather than "the server misbehaved".
const UNREACHABLE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

export class HttpClient {
  readonly options: HttpOptions;
  readonly limiter: HostRateLimiter;

  constructor(options: Partial<HttpOptions> = {}) {
    this.options = { ...DEFAULT_HTTP, ...options };
    this.limiter = new HostRateLimiter(this.options.perHostIntervalMs);
  }

  async get(url: string, o: GetOptions): Promise<Fetched> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt(url, o);
      } catch (e) {
        o.signal?.throwIfAborted();
        const f = e instanceof FetchFailed ? e : new FetchFailed('network error', describe(e), { retryable: true });
        const last = attempt >= this.options.retries || !f.retryable || (f.extra.unreachable && o.retryUnreachable === false);
        const wait = f.extra.retryAfterMs ?? this.backoff(attempt);
        if (f.extra.retryAfterMs != null && f.extra.retryAfterMs > this.options.maxRetryAfterMs)
          throw new FetchFailed(f.reason, `${f.detail}; Retry-After ${Math.round(wait / 1000)} s is longer than we wait`, { ...f.extra, retryable: true });
        if (last) throw f;
        // A 429 or 503 with Retry-After pauses every request to that host, not just this one.
        if (f.extra.retryAfterMs != null) this.limiter.pause(new URL(url).host, wait);
        else await sleep(wait, o.signal);
      }
    }
  }

  private backoff(attempt: number): number {
    const full = Math.min(this.options.maxBackoffMs, this.options.backoffMs * 2 ** attempt);
    return full / 2 + (Math.random() * full) / 2;
  }

  /** One attempt: follows redirects; each hop gets its own timeout, which starts only once the
   * rate limiter lets the request go (waiting for a paused host is not the server being slow). */
  private async attempt(first: string, o: GetOptions): Promise<Fetched> {
    let current = first;
    for (let hops = 0; ; hops++) {
      const checked = checkHttpUrl(current);
      if (checked.ok === false) throw new FetchFailed('unsafe url', checked.detail);
      await this.limiter.acquire(checked.url.host, o.signal);
      const next = await this.hop(checked.url, o);
      if (typeof next !== 'string') return next;
      if (hops >= this.options.maxRedirects)
        throw new FetchFailed('too many redirects', `more than ${this.options.maxRedirects} redirects (last to ${next.slice(0, 100)})`);
      current = next;
    }
  }

  /** One request: the response, or the address it redirects to. */
  private async hop(url: URL, o: GetOptions): Promise<Fetched | string> {
    const timeoutMs = o.timeoutMs ?? this.options.timeoutMs;
    const timer = new AbortController();
    const handle = setTimeout(() => timer.abort(), timeoutMs);
    const signal = o.signal ? AbortSignal.any([timer.signal, o.signal]) : timer.signal;
    try {
      const res = await fetch(url, { redirect: 'manual', headers: { 'user-agent': this.options.userAgent, accept: o.accept ?? '*/*' }, signal });
      const location = res.headers.get('location');
      if (REDIRECTS.has(res.status) && location) {
        await res.body?.cancel();
        return new URL(location, url).href;
      }
      if (res.status < 200 || res.status > 299) {
        await res.body?.cancel();
        throw statusFailure(res);
      }
      const contentType = res.headers.get('content-type');
      const refused = o.checkType?.(contentType) ?? null;
      if (refused) {
        await res.body?.cancel();
        throw new FetchFailed('wrong content type', refused);
      }
      const declared = Number(res.headers.get('content-length') ?? NaN);
      if (declared > o.maxBytes) {
        await res.body?.cancel();
        throw new FetchFailed('file too large', `Content-Length ${declared} > ${o.maxBytes} bytes`);
      }
      return { bytes: await readBounded(res, o.maxBytes), contentType, url: url.href };
    } catch (e) {
      if (timer.signal.aborted && !o.signal?.aborted) throw new FetchFailed('timeout', `no complete answer within ${timeoutMs} ms`, { retryable: true });
      if (e instanceof FetchFailed || o.signal?.aborted) throw e;
      const code = errorCode(e);
      throw new FetchFailed('network error', describe(e), { retryable: true, unreachable: code !== null && UNREACHABLE.has(code) });
    } finally {
      clearTimeout(handle);
    }
  }
}

function statusFailure(res: Response): FetchFailed {
  const status = res.status;
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
  if (status === 429) return new FetchFailed('rate limited', 'HTTP 429 Too Many Requests', { status, retryable: true, retryAfterMs });
  const detail = `HTTP ${status}${res.statusText ? ' ' + res.statusText : ''}`;
  return new FetchFailed('http error', detail, { status, retryable: status >= 500, retryAfterMs: status === 503 ? retryAfterMs : null });
}

/** Read the body, giving up as soon as it passes maxBytes (a lying or absent Content-Length). */
async function readBounded(res: Response, maxBytes: number): Promise<Buffer> {
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new FetchFailed('file too large', `body passed ${maxBytes} bytes while streaming`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

/** Retry-After as milliseconds from now: delay-seconds or an HTTP date; null when absent or invalid. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

function errorCode(e: unknown): string | null {
  const cause = (e as { cause?: { code?: unknown } } | null)?.cause;
  const code = cause?.code ?? (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : null;
}

function describe(e: unknown): string {
  const cause = (e as { cause?: unknown } | null)?.cause;
  const msg = cause instanceof Error ? cause.message : e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0].slice(0, 200);
}
