// `samples`: the built-in identities as photo folders the pipeline reads like scraped ones.
//
//   DIR/a/raw/a-00000.jpg ... + manifest.jsonl   person A under random parameters
//   DIR/b/raw/b-00000.jpg ... + manifest.jsonl   person B, other random parameters
//   DIR/truth/a/t-00000.png, DIR/truth/b/...     ground-truth pairs: A and B under the SAME
//   DIR/truth/manifest.jsonl                     parameters (clean: no blur, noise or JPEG)
//
// Every render's parameters come from (seed, person, index), so the same seed writes the same
// bytes. A rerun skips files whose manifest line is unchanged and still on disk; files are
// written atomically and the manifests last, so an interrupted run leaves nothing half-written.

import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { removeStaleTemps, writeFileAtomic } from '../util/fsutil';
import { Progress, type ProgressState } from '../util/progress';
import { roundPoints } from '../faces/alignments';
import { PointSchema } from '../faces/types';
import { LICENCE_NOTE, type PersonId } from './identities';
import { clean, RigParamsSchema, sample, type RigParams } from './params';
import { loadPerson, render, renderLandmarks, type Person } from './rig';

export const MANIFEST = 'manifest.jsonl';
/** Bump when the rig changes what it draws: lines with another version are rendered again. */
export const RIG_VERSION = 1;

export interface SamplesOptions {
  /** Photos per person. Default 300. */
  count?: number;
  /** Ground-truth pairs. Default 64. */
  pairs?: number;
  seed?: number;
  signal?: AbortSignal;
  /** Progress on stderr; null for none. */
  progressStream?: NodeJS.WriteStream | null;
  onProgress?: (state: ProgressState) => void;
}

export const DEFAULT_SAMPLES = { count: 300, pairs: 64, seed: 1 };

export interface SampleRecord {
  file: string;
  person: PersonId;
  rig: number;
  seed: string;
  params: RigParams;
  /** The 68 true landmarks in the photo's pixels. */
  landmarks: [number, number][];
  source: { photo: string; face: string };
  licence: string;
}

// PointSchema, not a z.tuple here: its type is the hand-written Point (see lib/faces/types.ts).
const LandmarksSchema = z.array(PointSchema);
export const TruthRecordSchema = z.object({
  /** The same file name under truth/a and truth/b. */
  file: z.string(),
  rig: z.number(),
  seed: z.string(),
  params: RigParamsSchema,
  landmarks: z.object({ a: LandmarksSchema, b: LandmarksSchema } satisfies Record<PersonId, z.ZodType>),
  licence: z.string(),
});
export type TruthRecord = z.infer<typeof TruthRecordSchema>;

export interface SamplesSummary {
  identities: Record<PersonId, { dir: string; images: number; manifest: string }>;
  truth: { dir: string; pairs: number; manifest: string };
  rendered: number;
  skipped: number;
  seconds: number;
  rendersPerSecond: number;
  interrupted: boolean;
}

interface Job {
  /** Path of the photo to write. */
  file: string;
  person: Person;
  params: RigParams;
  /** The manifest line that describes it; a file with the same line on disk is skipped. */
  line: string;
  manifest: string;
}

/**
 * A manifest's lines as text: a render is skipped only when its exact line is there, so a damaged
 * line simply matches nothing, and that photo is rendered again and the manifest rewritten.
 */
function readLines(file: string): Set<string> {
  return fs.existsSync(file) ? new Set(fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)) : new Set();
}

const sourceOf = (p: Person) => ({ photo: p.identity.photo, face: `${p.identity.faceFromLeft} of ${p.identity.facesInPhoto} from the left` });
const ext = (p: RigParams) => (p.jpegQuality >= 100 ? 'png' : 'jpg');

/** Remove earlier renders this run no longer lists (a smaller --count), by their name pattern. */
function removeStale(dir: string, pattern: RegExp, keep: Set<string>): void {
  if (!fs.existsSync(dir)) return;
  for (const name of fs.readdirSync(dir)) if (pattern.test(name) && !keep.has(name)) fs.rmSync(path.join(dir, name), { force: true });
}

export async function writeSamples(outDir: string, options: SamplesOptions = {}): Promise<SamplesSummary> {
  const { count, pairs, seed } = { ...DEFAULT_SAMPLES, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  const started = Date.now();
  const people = { a: await loadPerson('a'), b: await loadPerson('b') };
  const jobs: Job[] = [];
  const manifests = new Map<string, string[]>();

  for (const id of ['a', 'b'] as const) {
    const person = people[id];
    const dir = path.join(outDir, id, 'raw');
    const lines: string[] = [];
    const files = new Set<string>();
    for (let i = 0; i < count; i++) {
      const s = `${seed}:${id}:${i}`;
      const params = sample(s);
      const file = `${id}-${String(i).padStart(5, '0')}.${ext(params)}`;
      const record: SampleRecord = {
        file, person: id, rig: RIG_VERSION, seed: s, params,
        landmarks: roundPoints(renderLandmarks(person, params)) as [number, number][],
        source: sourceOf(person), licence: LICENCE_NOTE,
      };
      const line = JSON.stringify(record);
      lines.push(line);
      files.add(file);
      jobs.push({ file: path.join(dir, file), person, params, line, manifest: path.join(dir, MANIFEST) });
    }
    manifests.set(path.join(dir, MANIFEST), lines);
    removeStale(dir, new RegExp(`^${id}-\\d{5}\\.(jpg|png)$`), files);
  }

  const truthDir = path.join(outDir, 'truth');
  const truthLines: string[] = [];
  const truthFiles = new Set<string>();
  for (let i = 0; i < pairs; i++) {
    const s = `${seed}:truth:${i}`;
    const params = clean(sample(s));
    const file = `t-${String(i).padStart(5, '0')}.png`;
    const record: TruthRecord = {
      file, rig: RIG_VERSION, seed: s, params,
      landmarks: { a: roundPoints(renderLandmarks(people.a, params)) as [number, number][], b: roundPoints(renderLandmarks(people.b, params)) as [number, number][] },
      licence: LICENCE_NOTE,
    };
    const line = JSON.stringify(record);
    truthLines.push(line);
    truthFiles.add(file);
    // Each half of a pair is its own job; both carry the pair's line.
    for (const id of ['a', 'b'] as const) jobs.push({ file: path.join(truthDir, id, file), person: people[id], params, line, manifest: path.join(truthDir, MANIFEST) });
  }
  manifests.set(path.join(truthDir, MANIFEST), truthLines);
  for (const id of ['a', 'b'] as const) removeStale(path.join(truthDir, id), /^t-\d{5}\.png$/, truthFiles);

  // What is on disk and described by an identical line needs no work.
  const previous = new Map<string, Set<string>>();
  for (const m of manifests.keys()) previous.set(m, readLines(m));
  // A line goes into its manifest once all its photos are there (a truth pair has two).
  const needed = new Map<string, number>();
  for (const job of jobs) needed.set(job.line, (needed.get(job.line) ?? 0) + 1);
  const done = new Map<string, number>();

  // Temporary files of a run that was killed mid-write.
  for (const dir of new Set(jobs.map((j) => path.dirname(j.file)).concat([...manifests.keys()].map((m) => path.dirname(m))))) removeStaleTemps(dir);

  const progress = new Progress('samples', jobs.length, { unit: 'photos', stream: options.progressStream, onUpdate: options.onProgress });
  let rendered = 0, skipped = 0, interrupted = false;
  try {
    for (const job of jobs) {
      if (options.signal?.aborted) {
        interrupted = true;
        break;
      }
      if (previous.get(job.manifest)!.has(job.line) && fs.existsSync(job.file)) skipped++;
      else {
        const r = await render(job.person, job.params);
        await writeFileAtomic(job.file, r.bytes);
        rendered++;
      }
      done.set(job.line, (done.get(job.line) ?? 0) + 1);
      progress.tick();
    }
  } finally {
    // Also on a failed write: the bar's timer would otherwise keep the process alive.
    progress.stop();
  }
  // Manifests last, listing only finished photos: after an interruption a rerun skips those.
  for (const [file, lines] of manifests) {
    const finished = lines.filter((l) => done.get(l) === needed.get(l));
    await writeFileAtomic(file, finished.map((l) => l + '\n').join(''));
  }

  const seconds = (Date.now() - started) / 1000;
  const summary = (id: PersonId) => ({ dir: path.resolve(outDir, id, 'raw'), images: count, manifest: path.resolve(outDir, id, 'raw', MANIFEST) });
  return {
    identities: { a: summary('a'), b: summary('b') },
    truth: { dir: path.resolve(truthDir), pairs, manifest: path.resolve(truthDir, MANIFEST) },
    rendered,
    skipped,
    seconds,
    rendersPerSecond: rendered / Math.max(seconds, 1e-3),
    interrupted,
  };
}

