// What every source of photos provides: a stream of candidates with their provenance. Providers
// only describe candidates; the downloader fetches, checks, de-duplicates and records them.

import type { HttpClient } from './http';

export const PROVIDER_NAMES = ['wikimedia', 'openverse', 'bing', 'urls', 'folder'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export interface Candidate {
  url: string;
  page?: string | null;
  title?: string | null;
  licence?: string | null;
  licenceUrl?: string | null;
  author?: string | null;
  /** Set only by the folder provider: read this local file instead of fetching url. */
  localPath?: string;
  /** What the source says about the file, checked before downloading anything. */
  hints?: { mime?: string | null; width?: number | null; height?: number | null; bytes?: number | null };
}

export interface SearchContext {
  http: HttpClient;
  signal?: AbortSignal;
  /** A line for the user (standard error in the CLI). */
  log: (line: string) => void;
}

export interface Provider {
  readonly name: ProviderName;
  /** The query recorded in the manifest (null for URL lists and folders). */
  readonly query: string | null;
  /** Candidates in the source's order; the consumer stops pulling once it has enough. */
  candidates(ctx: SearchContext): AsyncIterable<Candidate>;
}

/** Options every search provider (wikimedia, openverse, bing) takes. */
export interface SearchOptions {
  query: string;
  /** Another address for the API or results page: a mirror, or a local server in tests. */
  baseUrl?: string;
  /** Stop after this many result pages. */
  maxPages?: number;
}

/** The provider's host could not be reached at all: the run stops with this one line. */
export class ProviderUnreachable extends Error {
  constructor(provider: string, host: string, detail: string) {
    super(`${provider}: cannot reach ${host} (${detail}); check the network, or use --provider folder --from DIR with photos you already have`);
    this.name = 'ProviderUnreachable';
  }
}
