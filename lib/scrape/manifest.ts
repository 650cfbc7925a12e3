// manifest.jsonl in the output folder: one JSON line per candidate URL, either the file kept from
// it (with where it came from and under which licence) or why it was skipped. Appended as work
// finishes, so an interrupted run leaves a usable manifest; the latest line for a URL wins, which
// lets a later run retry transient failures (timeouts, 5xx) and record the new outcome.

import { promises as fs } from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { parseJsonLines } from '../util/jsonfile';
import { hammingDistance } from '../util/phash';

export const MANIFEST_NAME = 'manifest.jsonl';

const provenanceShape = {
  url: z.string(),
  /** Human page describing the file (Commons file page, Openverse landing page, search result page). */
  page: z.string().nullable(),
  provider: z.string(),
  query: z.string().nullable(),
  title: z.string().nullable(),
  licence: z.string().nullable(),
  licenceUrl: z.string().nullable(),
  author: z.string().nullable(),
};
const ProvenanceSchema = z.object(provenanceShape);
/** Where a candidate came from, as the provider described it. */
export type Provenance = z.infer<typeof ProvenanceSchema>;

const KeptRecordSchema = z.object({
  ...provenanceShape,
  status: z.literal('kept'),
  /** File name inside the output folder: content hash + extension of the sniffed format. */
  file: z.string(),
  sha256: z.string(),
  phash: z.string(),
  width: z.number(),
  height: z.number(),
  bytes: z.number(),
  format: z.string(),
  /** Where the bytes came from after redirects, when different from url. */
  finalUrl: z.string().optional(),
  time: z.string(),
});
export type KeptRecord = z.infer<typeof KeptRecordSchema>;

const SkipRecordSchema = z.object({
  ...provenanceShape,
  status: z.literal('skipped'),
  reason: z.string(),
  detail: z.string(),
  /** Whether a later run should try this URL again (timeouts, 5xx, rate limits). */
  retryable: z.boolean(),
  /** For duplicates: the file already kept. */
  duplicateOf: z.string().optional(),
  time: z.string(),
});
export type SkipRecord = z.infer<typeof SkipRecordSchema>;

/** One line of the manifest: a file kept, or a URL skipped and why. */
export const ManifestRecordSchema = z.discriminatedUnion('status', [KeptRecordSchema, SkipRecordSchema]);
export type ManifestRecord = z.infer<typeof ManifestRecordSchema>;

export class Manifest {
  readonly file: string;
  private readonly byUrl = new Map<string, ManifestRecord>();
  private readonly bySha = new Map<string, KeptRecord>();
  private readonly kept: KeptRecord[] = [];
  /** Lines left out: damaged ones and a torn last line (a run killed mid-write leaves one). */
  badLines = 0;
  /** One line per damaged line before the last (file and line number), for the caller to print. */
  problems: string[] = [];

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
    const { records, problems, truncatedLast } = parseJsonLines(text, ManifestRecordSchema, m.file);
    for (const r of records) m.remember(r);
    m.problems = problems;
    m.badLines = problems.length + (truncatedLast ? 1 : 0);
    // Cut the torn tail off, or the next appended record would be glued onto it and lost too.
    if (truncatedLast) await fs.truncate(m.file, Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1)));
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
