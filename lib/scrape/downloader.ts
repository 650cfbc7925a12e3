// The scrape loop: pull candidates from a provider, fetch and check a few at a time, drop exact and
// near duplicates, store each kept photo under a name made from its content hash (nothing from the
// URL or the server reaches the file system), and record every candidate in manifest.jsonl.
// Re-running resumes: URLs the manifest has settled are not fetched again, and files already kept
// count towards the limit.

import * as path from 'path';
import { promises as fs } from 'fs';
import { DEFAULT_DECODE } from '../util/image';
import { removeStaleTemps, writeFileAtomic } from '../util/fsutil';
import { Progress, type ProgressOptions, type ProgressState } from '../util/progress';
import { fetchAndCheck, type CheckLimits } from './check';
import { HttpClient, type HttpOptions } from './http';
import { Manifest, type KeptRecord, type Provenance, type SkipRecord } from './manifest';
import { NEAR_DUPLICATE_BITS } from '../util/phash';
import type { Candidate, Provider } from './provider';
import { userAgent } from './user-agent';

export interface ScrapeOptions {
  provider: Provider;
  /** Output folder: the photos and manifest.jsonl. */
  out: string;
  /** Kept photos wanted in the folder, counting those from earlier runs. */
  limit: number;
  /** Downloads at once (across hosts; each host is also rate-limited). */
  concurrency?: number;
  /** Stop after fetching this many candidates (default: 10 x limit). */
  maxCandidates?: number;
  maxBytes?: number;
  /** Shorter side below this is "too small". */
  minSide?: number;
  maxPixels?: number;
  /** Perceptual-hash distance at or below which two photos are the same. */
  nearDuplicateBits?: number;
  http?: Partial<HttpOptions>;
  /** Email or URL put in the User-Agent, as Wikimedia's policy asks. */
  contact?: string;
  signal?: AbortSignal;
  /** Progress bar options (stream null: none); onUpdate for notebooks. */
  progress?: ProgressOptions;
  log?: (line: string) => void;
}

export interface ScrapeSummary {
  provider: string;
  query: string | null;
  /** New files stored by this run. */
  downloaded: number;
  /** Photos in the folder according to the manifest, after this run. */
  kept: number;
  /** Candidates not kept by this run, by reason (including ones earlier runs settled). */
  skipped: Record<string, number>;
  candidates: number;
  manifest: string;
  out: string;
  interrupted: boolean;
  seconds: number;
  progress: ProgressState | null;
}

const EXTENSIONS: Record<string, string> = { jpeg: 'jpg', png: 'png', webp: 'webp', gif: 'gif', tiff: 'tif', avif: 'avif' };

export async function scrape(o: ScrapeOptions): Promise<ScrapeSummary> {
  const started = Date.now();
  const out = path.resolve(o.out);
  await fs.mkdir(out, { recursive: true });
  removeStaleTemps(out);
  const manifest = await Manifest.open(out);
  const http = new HttpClient({ userAgent: userAgent(o.contact), ...o.http });
  const log = o.log ?? (() => {});
  for (const p of manifest.problems) log(p);
  const limits: CheckLimits = {
    maxBytes: o.maxBytes ?? 25 * 1024 * 1024,
    minSide: o.minSide ?? 128,
    maxPixels: o.maxPixels ?? DEFAULT_DECODE.maxPixels,
  };
  const nearBits = o.nearDuplicateBits ?? NEAR_DUPLICATE_BITS;
  const skipped: Record<string, number> = {};
  const count = (reason: string) => (skipped[reason] = (skipped[reason] ?? 0) + 1);
  const seenThisRun = new Set<string>();
  let kept = await countPresent(out, manifest.keptRecords());
  let downloaded = 0;
  let candidates = 0;
  let examined = 0;
  let inFlight = 0;
  let progress = null as Progress | null; // set by the first candidate, so a dead provider prints one line only
  const maxCandidates = o.maxCandidates ?? o.limit * 10;
  const source = o.provider.candidates({ http, signal: o.signal, log })[Symbol.asyncIterator]();

  const provenance = (c: Candidate): Provenance => ({
    url: c.url,
    page: c.page ?? null,
    provider: o.provider.name,
    query: o.provider.query,
    title: c.title ?? null,
    licence: c.licence ?? null,
    licenceUrl: c.licenceUrl ?? null,
    author: c.author ?? null,
  });

  const skip = async (c: Candidate, reason: string, detail: string, retryable: boolean, duplicateOf?: string) => {
    count(reason);
    const r: SkipRecord = { status: 'skipped', ...provenance(c), reason, detail, retryable, ...(duplicateOf ? { duplicateOf } : {}), time: new Date().toISOString() };
    await manifest.append(r);
  };

  const handle = async (c: Candidate): Promise<void> => {
    // One outcome per URL: repeats within a run and URLs settled by earlier runs are not fetched
    // (and do not use up maxCandidates, which bounds the work of fetching).
    if (seenThisRun.has(c.url)) return void count('repeated url');
    seenThisRun.add(c.url);
    if (manifest.settled(c.url)) return void count('already in manifest');
    examined++;

    const r = await fetchAndCheck(c, http, limits, o.signal);
    if (o.signal?.aborted) return; // unfinished: no record, so the next run tries it again
    if (r.ok === false) return skip(c, r.reason, r.detail, r.retryable);
    // No await between these checks and manifest.remember below: two workers holding the same
    // photo cannot both pass.
    const same = manifest.bySha256(r.sha256);
    if (same) return skip(c, 'duplicate', `same bytes as ${same.file}`, false, same.file);
    const near = manifest.nearDuplicate(r.phash, nearBits);
    if (near) return skip(c, 'near duplicate', `looks like ${near.file} (perceptual hash)`, false, near.file);
    const file = `${r.sha256.slice(0, 16)}.${EXTENSIONS[r.image.format] ?? 'img'}`;
    const record: KeptRecord = {
      status: 'kept',
      ...provenance(c),
      file,
      sha256: r.sha256,
      phash: r.phash,
      width: r.image.width,
      height: r.image.height,
      bytes: r.bytes.length,
      format: r.image.format,
      ...(r.finalUrl ? { finalUrl: r.finalUrl } : {}),
      time: new Date().toISOString(),
    };
    // Claimed at once for de-duplication; the line is written only once the file is in place, so a
    // killed run never leaves a record without its file (at worst a file without a record, which
    // the next run downloads again under the same name).
    manifest.remember(record);
    await writeFileAtomic(path.join(out, file), r.bytes);
    await manifest.writeLine(record);
    kept++;
    downloaded++;
    progress?.tick();
  };

  let failure: unknown = null;
  const worker = async () => {
    while (!failure && !o.signal?.aborted && kept + inFlight < o.limit && examined < maxCandidates) {
      inFlight++; // reserve before waiting for a candidate, so the limit is never overshot
      try {
        const next = await source.next();
        if (next.done) break;
        candidates++;
        progress ??= new Progress(`scrape ${o.provider.name}`, Math.max(0, o.limit - kept), { unit: 'images', ...o.progress });
        await handle(next.value);
      } catch (e) {
        if (!o.signal?.aborted) failure ??= e;
      } finally {
        inFlight--;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 4) }, worker));
  await source.return?.();
  const state = progress?.stop() ?? null;
  if (failure) throw failure;
  return {
    provider: o.provider.name,
    query: o.provider.query,
    downloaded,
    kept,
    skipped,
    candidates,
    manifest: manifest.file,
    out,
    interrupted: o.signal?.aborted ?? false,
    seconds: (Date.now() - started) / 1000,
    progress: state,
  };
}

/** Kept records whose file is still there (a user may delete bad photos; they then free a slot). */
async function countPresent(out: string, records: readonly KeptRecord[]): Promise<number> {
  let n = 0;
  for (const r of records) {
    try {
      await fs.access(path.join(out, r.file));
      n++;
    } catch {
      // deleted by the user: not counted, and its URL is still not fetched again
    }
  }
  return n;
}
