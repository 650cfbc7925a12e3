// Politeness: at most one request start per host every `intervalMs`, and a whole-host pause when a
// server answers 429 (one rate-limited request means the host is rate-limiting all of ours).

import { setTimeout as delay } from 'timers/promises';

/** Wait `ms`, or reject early when `signal` aborts. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) {
    signal?.throwIfAborted();
    return;
  }
  await delay(ms, undefined, { signal });
}

export class HostRateLimiter {
  /** Earliest time (ms since epoch) at which the next request to each host may start. */
  private readonly nextSlot = new Map<string, number>();

  constructor(private readonly intervalMs: number) {}

  /** Resolves when a request to `host` may start; reserves that slot. */
  async acquire(host: string, signal?: AbortSignal): Promise<void> {
    const now = Date.now();
    const at = Math.max(now, this.nextSlot.get(host) ?? 0);
    this.nextSlot.set(host, at + this.intervalMs);
    await sleep(at - now, signal);
  }

  /** No request to `host` starts for `ms` from now (Retry-After). */
  pause(host: string, ms: number): void {
    const until = Date.now() + ms;
    if ((this.nextSlot.get(host) ?? 0) < until) this.nextSlot.set(host, until);
  }
}
