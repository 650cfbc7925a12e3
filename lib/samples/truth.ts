// Ground truth for swaps: the pairs `samples` wrote under truth/ (A and B rendered with the same
// parameters), cut into aligned faces exactly as a model sees its training faces. A's face
// decoded by B's decoder should look like B's face of the same pair; PSNR/SSIM between the two
// measure a swap against the right answer.

import * as fs from 'fs';
import * as path from 'path';
import { centreCropResize, decodeImage, imageToTensor, tensorToImage, toFacePixels } from '../util/image';
import { applyMatrixAll } from '../faces/align';
import { alignmentMatrix, type CropGeometry } from '../faces/template';
import { warpAffine } from '../faces/resample';
import type { Point } from '../faces/types';
import { CorruptFile, readJsonLines } from '../util/jsonfile';
import { MANIFEST, TruthRecordSchema, type TruthRecord } from './dataset';

export interface TruthFaces {
  /** The pair file names, in order. */
  files: string[];
  /** Aligned faces, size x size x 3 bytes each: a[i] and b[i] are one pair. */
  a: Uint8Array[];
  b: Uint8Array[];
  /** The true 68 landmarks of each face, in its own pixels (what its masks are drawn from). */
  landmarks: { a: Point[][]; b: Point[][] };
}

/** The folder with the pairs' manifest: the truth folder itself, or a samples folder holding one. */
export function truthDir(dir: string): string {
  if (fs.existsSync(path.join(dir, MANIFEST))) return dir;
  if (fs.existsSync(path.join(dir, 'truth', MANIFEST))) return path.join(dir, 'truth');
  throw new Error(`${dir}: not a ground-truth folder (no ${MANIFEST}; run deepfake-lab samples first)`);
}

/**
 * The pairs' records. samples writes the manifest whole (atomically), so any damaged line is real
 * damage: it throws CorruptFile naming the file and line, rather than measuring on fewer pairs.
 */
export function readTruthManifest(dir: string): TruthRecord[] {
  const file = path.join(truthDir(dir), MANIFEST);
  const { records, damaged, truncatedLast } = readJsonLines(file, TruthRecordSchema);
  const why = damaged.length ? `line ${damaged[0].line} ${damaged[0].why}` : truncatedLast ? 'the last line is cut off' : null;
  if (why) throw new CorruptFile(file, `${why} (run deepfake-lab samples again to rewrite it)`);
  return records;
}

/** One truth photo's face: aligned by its true landmarks with extraction's geometry, then cut and resized like training faces. */
async function alignedFace(file: string, landmarks: readonly Point[], geometry: CropGeometry, size: number, cropFraction: number): Promise<{ face: Uint8Array; landmarks: Point[] }> {
  const pixels = imageToTensor(await decodeImage(file));
  const matrix = alignmentMatrix(landmarks, geometry);
  const crop = warpAffine(pixels, matrix, geometry.size);
  pixels.dispose();
  try {
    const img = await tensorToImage(crop);
    const face = await centreCropResize(img.data, img.width, img.height, size, cropFraction);
    return { face, landmarks: toFacePixels(applyMatrixAll(matrix, landmarks), img, size, cropFraction) };
  } finally {
    crop.dispose();
  }
}

/**
 * Load up to `max` pairs as aligned faces. `geometry` must be the one the model's faces were
 * extracted with (their alignments.json holds it); `size` and `cropFraction` are the model's.
 */
export async function loadTruthFaces(dir: string, options: { geometry: CropGeometry; size: number; cropFraction: number; max?: number }): Promise<TruthFaces> {
  const root = truthDir(dir);
  const records = readTruthManifest(root).slice(0, options.max ?? Infinity);
  const out: TruthFaces = { files: [], a: [], b: [], landmarks: { a: [], b: [] } };
  for (const r of records) {
    out.files.push(r.file);
    for (const id of ['a', 'b'] as const) {
      const f = await alignedFace(path.join(root, id, r.file), r.landmarks[id], options.geometry, options.size, options.cropFraction);
      out[id].push(f.face);
      out.landmarks[id].push(f.landmarks);
    }
  }
  return out;
}
