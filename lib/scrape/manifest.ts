// manifest.jsonl in the output folder: one JSON line per candidate URL, either the file kept from
// it (with where it came from and under which licence) or why it was skipped. Appended as work
// finishes, so an interrupted run leaves a usable manifest; the latest line for a URL wins, which
// lets a later run retry transient failures (timeouts, 5xx) and record the new outcome.

import { promises as fs } from 'fs';
import * as path from 'path';
import { hammingDistance } from '../phash';

export const MANIFEST_NAME = 'manifest.jsonl';

/** Where a candidate came from, as the provider described it. */
export interface Provenance {
  url: string;
  /** Human page describing the file (Commons file page, Openverse landing page, search result page). */
  page: string | null;
  provider: string;
  query: string | null;
  title: string | null;
  licence: string | null;
  licenceUrl: string | null;
  author: string | null;
}

export interface KeptRecord extends Provenance {
  status: 'kept';
  /** File name inside the output folder: content hash + extension of the sniffed format. */
  file: string;
  sha256: string;
  phash: string;
  width: number;
  height: number;
  bytes: number;
  format: string;
  /** Where the bytes came from after redirects, when different from url. */
  finalUrl?: string;
  time: string;
}

export interface SkipRecord extends Provenance {
  status: 'skipped';
  reason: string;
  detail: string;
  /** Whether a later run should try this URL again (timeouts, 5xx, rate limits). */
  retryable: boolean;
  /** For duplicates: the file already kept. */
  duplicateOf?: string;
  time: string;
}

export type ManifestRecord = KeptRecord | SkipRecord;

export class Manifest {
  readonly file: string;
  private readonly byUrl = new Map<string, ManifestRecord>();
  private readonly bySha = new Map<string, KeptRecord>();
  private readonly kept: KeptRecord[] = [];
  /** Lines that did not parse (a run killed mid-write leaves at most one). */
  badLines = 0;

  private constructor(readonly dir: string) {
    this.file = path.join(dir, MANIFEST_NAME);
  }

  static async open(dir: string): Promise<Manifest> {
    const m = new Manifest(dir);
    let text = '';
    try {
      text = await fs.readFile(m.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const r = JSON.parse(line) as ManifestRecord;
        if (typeof r.url === 'string' && (r.status === 'kept' || r.status === 'skipped')) m.remember(r);
        else m.badLines++;
      } catch {
        m.badLines++;
      }
    }
    return m;
  }

  /** Take the record into account now (dedup sees it at once); write it later with writeLine. */
  remember(r: ManifestRecord): void {
    this.byUrl.set(r.url, r);
    if (r.status === 'kept' && !this.bySha.has(r.sha256)) {
      this.bySha.set(r.sha256, r);
      this.kept.push(r);
    }
  }

  async append(r: ManifestRecord): Promise<void> {
    this.remember(r);
    await this.writeLine(r);
  }

  async writeLine(r: ManifestRecord): Promise<void> {
    // One write per line in append mode: lines from one process never interleave.
    await fs.appendFile(this.file, JSON.stringify(r) + '\n');
  }

  /** The record that makes fetching this URL again pointless, if any. */
  settled(url: string): ManifestRecord | null {
    const r = this.byUrl.get(url);
    return r && (r.status === 'kept' || !r.retryable) ? r : null;
  }

  bySha256(sha: string): KeptRecord | null {
    return this.bySha.get(sha) ?? null;
  }

  /** A kept file whose perceptual hash is within maxBits of this one. */
  nearDuplicate(phash: string, maxBits: number): KeptRecord | null {
    return this.kept.find((k) => hammingDistance(k.phash, phash) <= maxBits) ?? null;
  }

  keptRecords(): readonly KeptRecord[] {
    return this.kept;
  }
}
