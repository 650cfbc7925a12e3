// Extraction: a folder of photos -> a folder of aligned face crops + alignments.json.
//
// Per photo: decode (lib/util/image.ts), check it is not a re-encoding of an earlier photo, detect
// faces with landmarks, and per face: check score and size, fit the similarity transform to the
// template, check head turn, warp the crop, check sharpness, and write the crop. Then, over the whole folder, the identity filter
// keeps the faces of the dominant person (or of a reference face). Rejected crops are kept under
// rejected/<reason>/ so a learner can see what each filter removed.
//
// Resumable: alignments.json is saved every few photos; a rerun skips photos already done (same
// size and time) and a rerun with other options starts clean. A damaged alignments.json is said
// in one line and rebuilt from scratch, and the crops it listed (unknown now) are removed first,
// so training never learns from crops no record accounts for.

import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../engine/backend';
import { removeStaleTemps, writeFileAtomic } from '../util/fsutil';
import { relaxHeapGrowth } from '../util/heap';
import { encodeImage, listImageFiles, pixelTensor, tensorToImage, tryDecodeImage, type DecodeResult, type RgbImage } from '../util/image';
import { CorruptFile, readJsonFileIfExists } from '../util/jsonfile';
import { Progress, type ProgressState } from '../util/progress';
import { versions } from '../util/project';
import { ALIGNMENTS_FILE, AlignmentsFileSchema, roundPoints, writeAlignments, type AlignmentsFile, type FaceRecord, type ImageRecord } from './alignments';
import { largestFirst, type DetectorKind, type FaceDetector } from './detector';
import { cascadeDetector } from './cascade-detector';
import { createFaceApiDetector } from './faceapi-detector';
import { onFaceBackend } from './faceapi';
import { DEFAULT_IDENTITY_THRESHOLD, dominantIdentity, referenceIdentity } from './identity-filter';
import { hammingDistance, perceptualHash } from '../util/phash';
import { estimateYaw, sharpness } from './filter-measures';
import { DESCRIPTOR_INPUT, faceDescriptors } from './recognition';
import { alignmentMatrix, templateInCrop } from './template';
import type { DetectedFace, Matrix, Point } from './types';
import { warpAffine } from './resample';

export interface ExtractOptions {
  /** Side of the aligned crops in pixels. */
  size?: number;
  /** Border around the face template, as a fraction of the crop side. */
  margin?: number;
  detector?: DetectorKind;
  /** Faces the detector scores below this are rejected as "low score". */
  minScore?: number;
  /** Faces whose box is smaller than this (shorter side, photo pixels) are rejected as "too small". */
  minFace?: number;
  /** Crops whose sharpness (variance of the Laplacian) is below this are rejected as "blurred". */
  minSharpness?: number;
  /** Faces turned further than this (degrees) are rejected as "extreme pose". */
  maxYaw?: number;
  /**
   * Photos within this many bits (of 64) of an earlier photo's perceptual hash are the same photo
   * re-encoded: their faces are rejected as "duplicate". -1: off. Measured: re-encodings of one
   * photo (bad-inputs) 0 bits apart, its CMYK conversion 2; distinct photos of one person 2+ (1 pair
   * of 120 among 16 rig renders), 4+ (LFW, where 4-6 are near-copies of one shoot).
   * Crops are not compared: aligned crops of one person hash alike whatever the expression.
   */
  duplicateBits?: number;
  /** 'off' keeps everyone; 'dominant' keeps the folder's main person; else a reference photo's path. */
  identity?: string;
  identityThreshold?: number;
  /** Stop early (Ctrl-C): the progress so far is saved and a rerun resumes. */
  signal?: AbortSignal;
  /** Progress on stderr; null for none. */
  progressStream?: NodeJS.WriteStream | null;
  onProgress?: (state: ProgressState) => void;
  /** Notices (a damaged alignments.json being rebuilt). Default: the progress stream, else stderr. */
  log?: (line: string) => void;
}

export const DEFAULT_EXTRACT = {
  size: 256,
  margin: 0.2,
  detector: 'ssd' as DetectorKind,
  minScore: 0.5,
  minFace: 40,
  minSharpness: 15,
  maxYaw: 60,
  duplicateBits: 2,
  identity: 'off',
  identityThreshold: DEFAULT_IDENTITY_THRESHOLD,
};

export interface ExtractSummary {
  /** Candidate image files in the folder. */
  images: number;
  /** Faces the detector found. */
  faces: number;
  /** Crops written and kept. */
  written: number;
  /** Why photos or faces were not used, with counts. */
  skipped: Record<string, number>;
  /** The alignments file. */
  alignments: string;
  /** Photos processed in this run (the others were already done). */
  processed: number;
  seconds: number;
  imagesPerSecond: number;
  interrupted: boolean;
  /** The identity filter's outcome (its centroid stays in alignments.json). */
  identity: Omit<NonNullable<AlignmentsFile['identity']>, 'centroid'> | null;
}

type Settings = typeof DEFAULT_EXTRACT;

/** Crop file name from a source path: safe characters only, one file per face. */
function cropName(relFile: string, index: number, taken: Set<string>): string {
  const stem = relFile.replace(/\.[^.]+$/, '').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 80) || 'image';
  let name = `${stem}_${index}.png`;
  if (taken.has(name)) name = `${stem}_${crypto.createHash('sha1').update(relFile).digest('hex').slice(0, 6)}_${index}.png`;
  taken.add(name);
  return name;
}

const slug = (reason: string) => reason.replace(/[^a-z0-9]+/gi, '-').toLowerCase();

/** The settings that change what is written; a rerun with different ones starts clean. */
function outputSettings(s: Settings, templatePoints: Point[]): Record<string, unknown> {
  const { size, margin, detector, minScore, minFace, minSharpness, maxYaw, duplicateBits, identity, identityThreshold } = s;
  const template = crypto.createHash('sha1').update(JSON.stringify(templatePoints)).digest('hex').slice(0, 12);
  // Bump when the pipeline itself changes what it writes, so old folders are redone.
  const pipeline = 3;
  return { size, margin, detector, minScore, minFace, minSharpness, maxYaw, duplicateBits, identity, identityThreshold, template, pipeline };
}

async function removeOutputs(outDir: string, old: AlignmentsFile): Promise<void> {
  for (const img of old.images) for (const f of img.faces) if (f.file) await fs.promises.rm(path.join(outDir, f.file), { force: true });
  await fs.promises.rm(path.join(outDir, 'rejected'), { recursive: true, force: true });
}

/**
 * Remove the crops (PNG files in the faces folder and under rejected/) that `data` does not list:
 * after a damaged alignments.json nothing else knows which of them are stale. Returns the count.
 */
async function removeUnlisted(outDir: string, data: AlignmentsFile): Promise<number> {
  const listed = new Set(data.images.flatMap((img) => img.faces.flatMap((f) => (f.file ? [path.normalize(f.file)] : []))));
  const isPng = (name: string) => name.toLowerCase().endsWith('.png');
  const top = (await fs.promises.readdir(outDir)).filter(isPng);
  const rejectedDir = path.join(outDir, 'rejected');
  const rejected = fs.existsSync(rejectedDir) ? (await fs.promises.readdir(rejectedDir, { recursive: true })).filter(isPng).map((f) => path.join('rejected', f)) : [];
  let removed = 0;
  for (const rel of [...top, ...rejected]) {
    if (listed.has(path.normalize(rel))) continue;
    const file = path.join(outDir, rel);
    if (!(await fs.promises.stat(file)).isFile()) continue;
    await fs.promises.rm(file, { force: true });
    removed++;
  }
  return removed;
}

export async function extractFaces(inDir: string, outDir: string, options: ExtractOptions = {}): Promise<ExtractSummary> {
  const s: Settings = { ...DEFAULT_EXTRACT, ...stripUndefined(options) } as Settings;
  await initBackend();
  relaxHeapGrowth();
  const started = Date.now();
  const { files } = await listImageFiles(inDir);
  await fs.promises.mkdir(outDir, { recursive: true });
  // Temporary files of a run that was killed mid-write (crops, alignments.json, rejected crops).
  removeStaleTemps(outDir);
  const rejectedRoot = path.join(outDir, 'rejected');
  if (fs.existsSync(rejectedRoot))
    for (const d of fs.readdirSync(rejectedRoot, { withFileTypes: true })) if (d.isDirectory()) removeStaleTemps(path.join(rejectedRoot, d.name));
  const alignmentsPath = path.join(outDir, ALIGNMENTS_FILE);
  const settings = outputSettings(s, templateInCrop({ size: s.size, margin: s.margin }));

  const log = options.log ?? ((line: string) => void (options.progressStream ?? process.stderr).write(`extract: ${line}\n`));

  // Resume, or start clean when the options changed, or rebuild a damaged file.
  let data: AlignmentsFile | null = null;
  let sweep = false;
  try {
    data = readJsonFileIfExists(alignmentsPath, AlignmentsFileSchema);
  } catch (e) {
    if (!(e instanceof CorruptFile)) throw e;
    log(`${e.message}; rebuilding it, and removing the crops it no longer accounts for`);
    sweep = true;
  }
  if (data && (JSON.stringify(data.options) !== JSON.stringify(settings) || path.resolve(data.source) !== path.resolve(inDir))) {
    await removeOutputs(outDir, data);
    data = null;
  }
  data ??= { version: 1, createdBy: `deepfake-lab ${versions()['deepfake-lab']}`, source: path.resolve(inDir), options: settings, identity: null, images: [] };
  // The new file lists nothing yet, so every old crop goes; first, so that a run killed halfway
  // cannot leave orphans behind a file that reads as valid.
  if (sweep) await removeUnlisted(outDir, data);
  const byFile = new Map(data.images.map((r) => [r.file, r]));
  const taken = new Set(data.images.flatMap((r) => r.faces.map((f) => path.basename(f.file ?? ''))));
  // Photos seen so far (file, hash), for the duplicate check.
  const seen: Array<{ file: string; hash: string }> = data.images.filter((r) => r.hash && !r.duplicateOf).map((r) => ({ file: r.file, hash: r.hash! }));

  const detector = await createDetector(s.detector, s.minScore);
  const progress = new Progress('extract', files.length, { unit: 'images', stream: options.progressStream, onUpdate: options.onProgress });
  let processed = 0;
  let lastSave = Date.now();
  let interrupted = false;

  // Decoding, hashing and PNG encoding run on sharp's threads. They overlap the nets (which run on
  // this thread): the next photos are decoded while this one is searched, and crops are written
  // while the next photo is. The list only names crops that are on disk: writes are awaited
  // before every save. On the demo photos (30, face-api on native) this took 2.75 to 3.5 photos/s
  // one photo ahead with face-api's own nets, and 8.7 two ahead with the fused nets (bench).
  const writes = new PendingWrites();
  const todo = async (file: string) => {
    const rel = path.relative(inDir, file);
    const st = await fs.promises.stat(file);
    const prev = byFile.get(rel);
    return { file, rel, st, prev, stale: !(prev && prev.bytes === st.size && prev.mtimeMs === st.mtimeMs) };
  };
  // Two photos ahead: a photo with many faces takes longer than one decode, and the next one's
  // decode then waits less on the one after.
  const AHEAD = 2;
  const ahead: Array<{ item: Awaited<ReturnType<typeof todo>>; prepared: Promise<Prepared> | null }> = [];
  const lookAhead = async (k: number) => {
    if (k >= files.length) return;
    const item = await todo(files[k]!);
    ahead.push({ item, prepared: item.stale ? prepareImage(item.file) : null });
  };

  try {
    for (let k = 0; k < AHEAD; k++) await lookAhead(k);
    for (let k = 0; k < files.length && ahead.length > 0; k++) {
      if (options.signal?.aborted) {
        interrupted = true;
        break;
      }
      const { item, prepared } = ahead.shift()!;
      await lookAhead(k + AHEAD);
      if (prepared) {
        if (item.prev) await removeRecordOutputs(outDir, item.prev);
        const record = await onFaceBackend(async () => processImage(item.rel, item.st, await prepared, detector, s, outDir, taken, seen, writes));
        byFile.set(item.rel, record);
        processed++;
      }
      progress.tick();
      if (Date.now() - lastSave > 3000) {
        await writes.settle();
        data.images = [...byFile.values()];
        await writeAlignments(alignmentsPath, data);
        lastSave = Date.now();
      }
    }
    await writes.settle();
  } finally {
    // Also on a failed write: the bar's timer would otherwise keep the process alive.
    progress.stop();
    // A look-ahead decode still running must not outlive the call (its failure is reported when its photo comes up).
    await Promise.all(ahead.map((a) => a.prepared?.catch(() => undefined)));
    await writes.drain();
  }
  data.images = [...byFile.values()].sort((a, b) => (a.file < b.file ? -1 : 1));
  if (!interrupted) data.identity = await applyIdentity(data, s, outDir);
  await writeAlignments(alignmentsPath, data);

  const seconds = (Date.now() - started) / 1000;
  const identity = data.identity ? (({ centroid: _, ...rest }) => rest)(data.identity) : null;
  return { ...summarise(data, files.length), alignments: alignmentsPath, processed, seconds, imagesPerSecond: processed / Math.max(seconds, 1e-3), interrupted, identity };
}

/**
 * The extraction's detector: 'ssd' (default) falls back to the tiny detector on photos where SSD is
 * unsure; 'tiny' is tiny alone. Faces down to 0.3 are reported so callers can name low-score faces.
 */
export async function createDetector(kind: DetectorKind = DEFAULT_EXTRACT.detector, minScore = DEFAULT_EXTRACT.minScore): Promise<FaceDetector> {
  const floor = Math.min(0.3, minScore);
  const tiny = await createFaceApiDetector({ kind: 'tiny', minScore: floor });
  if (kind === 'tiny') return tiny;
  return cascadeDetector(await createFaceApiDetector({ kind: 'ssd', minScore: floor }), tiny, minScore);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

async function removeRecordOutputs(outDir: string, record: ImageRecord): Promise<void> {
  for (const f of record.faces) if (f.file) await fs.promises.rm(path.join(outDir, f.file), { force: true });
}

/** A photo decoded and hashed (both on sharp's threads), or the reason it cannot be read. */
type Prepared = { ok: true; image: RgbImage; hash: string } | Extract<DecodeResult, { ok: false }>;

async function prepareImage(file: string): Promise<Prepared> {
  const decoded = await tryDecodeImage(file);
  if (decoded.ok === false) return decoded;
  return { ok: true, image: decoded.image, hash: await perceptualHash(decoded.image) };
}

/**
 * Crop writes started but not awaited. Each failure is kept (not left as an unhandled rejection)
 * and thrown by the next settle(), before the list is saved.
 */
class PendingWrites {
  private list: Promise<unknown>[] = [];

  add(write: Promise<void>): void {
    this.list.push(write.then(() => null, (e: unknown) => ({ failed: e })));
  }

  /** Wait for every write; throw the first failure. */
  async settle(): Promise<void> {
    const done = await Promise.all(this.list.splice(0));
    const failed = done.find((r): r is { failed: unknown } => r !== null && typeof r === 'object' && 'failed' in r);
    if (failed) throw failed.failed;
  }

  /** Wait for every write, ignoring failures (after an error has already been thrown). */
  async drain(): Promise<void> {
    await Promise.all(this.list.splice(0));
  }
}

async function processImage(
  rel: string,
  st: fs.Stats,
  prepared: Prepared,
  detector: FaceDetector,
  s: Settings,
  outDir: string,
  taken: Set<string>,
  seen: Array<{ file: string; hash: string }>,
  writes: PendingWrites,
): Promise<ImageRecord> {
  const base = { file: rel, bytes: st.size, mtimeMs: st.mtimeMs };
  if (prepared.ok === false) return { ...base, width: null, height: null, status: 'rejected', reason: prepared.reason, detail: prepared.detail, hash: null, duplicateOf: null, faces: [] };
  const { image, hash } = prepared;
  const duplicateOf = s.duplicateBits < 0 ? null : (seen.find((p) => p.file !== rel && hammingDistance(p.hash, hash) <= s.duplicateBits)?.file ?? null);
  if (!duplicateOf) seen.push({ file: rel, hash });
  // One float copy of the photo (0-255) serves the detector and every crop: at 1920 px each copy
  // is 35 MB to allocate and fill, and dividing it by 255 for the crops was a third one.
  const pixels = pixelTensor(image);
  try {
    const detected = await detector.detect(image, pixels);
    // Every crop is warped before the first sharpness check returns: the checks (on sharp's
    // threads) then run side by side instead of one face after another.
    const faces = await Promise.all(detected.map((face, index) => processFace(pixels, rel, index, face, s, outDir, taken, duplicateOf !== null, writes)));
    // Descriptors for the identity filter: the faces kept so far, through the net in one batch.
    if (s.identity !== 'off') {
      const kept = faces.filter((f) => !f.rejected);
      const descriptors = await describe(pixels, kept.map((f) => detected[f.index]!.landmarks));
      kept.forEach((f, i) => (f.descriptor = Array.from(descriptors[i]!, (v) => Math.round(v * 1e5) / 1e5)));
    }
    return { ...base, width: image.width, height: image.height, status: 'done', reason: null, detail: null, hash, duplicateOf, faces };
  } finally {
    pixels.dispose();
  }
}

async function processFace(
  pixels: tf.Tensor3D,
  rel: string,
  index: number,
  face: DetectedFace,
  s: Settings,
  outDir: string,
  taken: Set<string>,
  duplicatePhoto: boolean,
  writes: PendingWrites,
): Promise<FaceRecord> {
  const record: FaceRecord = {
    index,
    box: roundBox(face.box),
    score: Math.round(face.score * 1e4) / 1e4,
    detector: face.detector,
    landmarks: roundPoints(face.landmarks),
    matrix: null,
    yaw: null,
    sharpness: null,
    descriptor: null,
    identityDistance: null,
    file: null,
    rejected: null,
  };
  if (face.score < s.minScore) return { ...record, rejected: 'low score' };
  if (Math.min(face.box.width, face.box.height) < s.minFace) return { ...record, rejected: 'too small' };

  const matrix: Matrix = alignmentMatrix(face.landmarks, { size: s.size, margin: s.margin });
  record.matrix = matrix;
  record.yaw = Math.round(estimateYaw(face.landmarks) * 10) / 10;

  // Named before the first await, so names never depend on which face's check finishes first.
  const name = cropName(rel, index, taken);
  const cropTensor = warpAffine(pixels, matrix, s.size);
  const crop = await tensorToImage(cropTensor, 255).finally(() => cropTensor.dispose());
  record.sharpness = Math.round((await sharpness(crop)) * 10) / 10;
  if (duplicatePhoto) record.rejected = 'duplicate';
  else if (Math.abs(record.yaw) > s.maxYaw) record.rejected = 'extreme pose';
  else if (record.sharpness < s.minSharpness) record.rejected = 'blurred';

  record.file = record.rejected ? path.join('rejected', slug(record.rejected), name) : name;
  const file = path.join(outDir, record.file);
  writes.add(encodeImage(crop, 'png').then((png) => writeFileAtomic(file, png)));
  return record;
}

/** Recognition descriptors of faces (pixels 0-255), each from its own tight 150 px alignment (the net's input, in 0-1). */
async function describe(pixels: tf.Tensor3D, landmarks: Point[][]): Promise<Float32Array[]> {
  const crops = landmarks.map((l) =>
    tf.tidy(() => tf.div(warpAffine(pixels, alignmentMatrix(l, { size: DESCRIPTOR_INPUT, margin: 0.05 }), DESCRIPTOR_INPUT), 255) as tf.Tensor3D));
  try {
    return await faceDescriptors(crops);
  } finally {
    tf.dispose(crops);
  }
}

function roundBox(b: DetectedFace['box']): DetectedFace['box'] {
  const r = (v: number) => Math.round(v * 100) / 100;
  return { x: r(b.x), y: r(b.y), width: r(b.width), height: r(b.height) };
}

/** The identity filter over the whole folder; moves crops between kept and rejected/not-the-person. */
async function applyIdentity(data: AlignmentsFile, s: Settings, outDir: string): Promise<AlignmentsFile['identity']> {
  if (s.identity === 'off') return null;
  const candidates = data.images.flatMap((img) => img.faces.filter((f) => f.descriptor && (!f.rejected || f.rejected === 'not the person')));
  const descriptors = candidates.map((f) => f.descriptor!);
  const decision = s.identity === 'dominant' ? dominantIdentity(descriptors, s.identityThreshold) : referenceIdentity(descriptors, await referenceDescriptors(s.identity, s), s.identityThreshold);
  for (const [i, face] of candidates.entries()) {
    face.identityDistance = Math.round(decision.distances[i] * 1e4) / 1e4;
    const rejected = decision.isPerson[i] ? null : 'not the person';
    if (rejected === face.rejected || !face.file) continue;
    const name = path.basename(face.file);
    const target = rejected ? path.join('rejected', slug(rejected), name) : name;
    await fs.promises.mkdir(path.dirname(path.join(outDir, target)), { recursive: true });
    await fs.promises.rename(path.join(outDir, face.file), path.join(outDir, target));
    face.file = target;
    face.rejected = rejected;
  }
  return {
    mode: s.identity === 'dominant' ? 'dominant' : `reference ${s.identity}`,
    threshold: s.identityThreshold,
    centroid: Array.from(decision.centroid, (v) => Math.round(v * 1e5) / 1e5),
    faces: candidates.length,
    person: decision.isPerson.filter(Boolean).length,
  };
}

/** Descriptor of the largest face in a reference photo. */
async function referenceDescriptors(file: string, s: Settings): Promise<Float32Array[]> {
  const decoded = await tryDecodeImage(file);
  if (decoded.ok === false) throw new Error(`reference image ${file}: ${decoded.reason}: ${decoded.detail}`);
  const detector = await createDetector(s.detector, s.minScore);
  const faces = (await detector.detect(decoded.image)).filter((f) => f.score >= s.minScore);
  if (faces.length === 0) throw new Error(`reference image ${file}: no face found`);
  const largest = largestFirst(faces)[0]!;
  const pixels = pixelTensor(decoded.image);
  try {
    return describe(pixels, [largest.landmarks]);
  } finally {
    pixels.dispose();
  }
}

function summarise(data: AlignmentsFile, candidates: number): Pick<ExtractSummary, 'images' | 'faces' | 'written' | 'skipped'> {
  const skipped: Record<string, number> = {};
  const count = (reason: string) => (skipped[reason] = (skipped[reason] ?? 0) + 1);
  let faces = 0, written = 0;
  for (const img of data.images) {
    if (img.status === 'rejected') count(img.reason ?? 'unreadable');
    else if (img.faces.length === 0) count('no face');
    for (const f of img.faces) {
      faces++;
      if (f.rejected) count(f.rejected);
      else if (f.file) written++;
    }
  }
  return { images: candidates, faces, written, skipped };
}
