// The 68 landmarks of every aligned crop in a faces folder, in the crop's own pixels: what the
// training masks (face region, eyes, mouth) are drawn from.
//
// 1. `alignments.json` (written by extract) knows them for every crop it kept;
// 2. a folder without one (aligned faces from elsewhere) gets them detected once with face-api's
//    landmark net, run straight on each crop, and cached beside the crops in `landmarks.json`
//    (keyed by file size and modification time, so a changed crop is detected again);
// 3. when neither works (the folder is read-only and face-api cannot run), the caller falls back
//    to a fixed ellipse and says so.

import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { writeFileAtomic } from '../util/fsutil';
import { decodeImage, imageToTensor } from '../util/image';
import { CorruptFile, readJsonFileIfExists } from '../util/jsonfile';
import { ALIGNMENTS_FILE, alignedLandmarks, readAlignments } from './alignments';
import { cropLandmarks } from './recognition';
import { PointSchema, type Point } from './types';

export const LANDMARKS_CACHE = 'landmarks.json';

const CacheFileSchema = z.object({
  version: z.literal(1),
  faces: z.record(z.string(), z.object({ bytes: z.number(), mtimeMs: z.number(), landmarks: z.array(PointSchema) })),
});
type CacheFile = z.infer<typeof CacheFileSchema>;

export interface CropLandmarks {
  /** Landmarks per crop file name (base name), in the crop's pixels. */
  byFile: Map<string, Point[]>;
  /** Where they came from. */
  source: 'alignments' | 'detected' | 'none';
  /** Crops face-api found no usable landmarks on. */
  missing: string[];
}

function fromAlignments(dir: string): Map<string, Point[]> | null {
  const file = readAlignments(path.join(dir, ALIGNMENTS_FILE));
  if (!file) return null;
  const out = new Map<string, Point[]>();
  for (const image of file.images)
    for (const face of image.faces) if (face.file && !face.rejected && face.matrix) out.set(path.basename(face.file), alignedLandmarks(face));
  return out;
}

/** The cache's entries; a damaged cache is said in one line and found again (then rewritten). */
function readCache(file: string, log: (line: string) => void): CacheFile['faces'] {
  try {
    return readJsonFileIfExists(file, CacheFileSchema)?.faces ?? {};
  } catch (e) {
    if (e instanceof CorruptFile) log(`${e.message}; finding the landmarks again`);
    // Unreadable (permissions): detect again, as when there is no cache.
    return {};
  }
}

/**
 * Landmarks for `files` (base names in `dir`). Uses alignments.json when it covers every file;
 * otherwise detects what the cache lacks (`detect: false` forbids that) and updates the cache.
 */
export async function loadCropLandmarks(dir: string, files: readonly string[], options: { detect?: boolean; log?: (line: string) => void } = {}): Promise<CropLandmarks> {
  const { detect = true, log = () => undefined } = options;
  const aligned = fromAlignments(dir);
  if (aligned && files.every((f) => aligned.has(f))) return { byFile: aligned, source: 'alignments', missing: [] };

  const cacheFile = path.join(dir, LANDMARKS_CACHE);
  const cache = readCache(cacheFile, log);
  const byFile = new Map<string, Point[]>();
  const todo: Array<{ file: string; bytes: number; mtimeMs: number }> = [];
  for (const file of files) {
    const st = fs.statSync(path.join(dir, file));
    const hit = cache[file];
    if (hit && hit.bytes === st.size && hit.mtimeMs === st.mtimeMs && hit.landmarks.length === 68) byFile.set(file, hit.landmarks);
    else todo.push({ file, bytes: st.size, mtimeMs: st.mtimeMs });
  }
  if (todo.length === 0) return { byFile, source: 'detected', missing: [] };
  if (!detect) return { byFile: new Map(), source: 'none', missing: [...files] };

  log(`${dir}: no alignments.json for ${todo.length} faces; finding their landmarks once (cached in ${LANDMARKS_CACHE})`);
  const missing: string[] = [];
  for (const { file, bytes, mtimeMs } of todo) {
    try {
      const face = imageToTensor(await decodeImage(path.join(dir, file)));
      try {
        const landmarks = await cropLandmarks(face as tf.Tensor3D);
        byFile.set(file, landmarks);
        cache[file] = { bytes, mtimeMs, landmarks: landmarks.map(([x, y]): Point => [Math.round(x * 100) / 100, Math.round(y * 100) / 100]) };
      } finally {
        face.dispose();
      }
    } catch {
      missing.push(file);
    }
  }
  try {
    await writeFileAtomic(cacheFile, JSON.stringify({ version: 1, faces: cache } satisfies CacheFile) + '\n');
  } catch (e) {
    log(`could not cache landmarks in ${cacheFile} (${(e as Error).message.split('\n')[0]}); they will be found again next time`);
  }
  return { byFile, source: 'detected', missing };
}
