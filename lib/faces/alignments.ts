// alignments.json: everything extraction learned about a folder, per source image and per face,
// so a swap can map a face back into its photo and a rerun can skip finished work.

import * as fs from 'fs';
import { writeFileAtomic } from '../fsutil';
import { applyMatrixAll } from './align';
import type { Box, Matrix, Point } from './types';

export interface FaceRecord {
  /** Order of the face in the detector's output for this photo. */
  index: number;
  box: Box;
  score: number;
  /** Which detector found the face ('ssd' or 'tiny'). */
  detector: string;
  /** 68 landmarks in the source photo's pixels. */
  landmarks: Point[];
  /** Photo -> aligned crop (2x3); its inverse maps any crop point or pixel back into the photo. */
  matrix: Matrix | null;
  /** Estimated head turn in degrees (0 frontal). */
  yaw: number | null;
  /** Variance of the Laplacian of the crop (higher = sharper). */
  sharpness: number | null;
  /** Recognition descriptor (128 numbers), when identity filtering is on. */
  descriptor: number[] | null;
  /** Distance to the person's identity centroid, when identity filtering is on. */
  identityDistance: number | null;
  /** The crop, relative to the faces folder: `name.png` when kept, `rejected/<reason>/name.png` when not. */
  file: string | null;
  /** Why the face is not used, or null when it is. */
  rejected: string | null;
}

export interface ImageRecord {
  /** Path relative to the input folder. */
  file: string;
  /** Size and modification time when processed: a changed file is processed again. */
  bytes: number;
  mtimeMs: number;
  width: number | null;
  height: number | null;
  /** 'done' (decoded and searched for faces) or 'rejected' (not decodable: see reason). */
  status: 'done' | 'rejected';
  /** 64-bit perceptual hash of the decoded photo (lib/phash.ts), hex. */
  hash: string | null;
  /** An earlier photo of the folder this one re-encodes (its faces are rejected as "duplicate"). */
  duplicateOf: string | null;
  reason: string | null;
  detail: string | null;
  faces: FaceRecord[];
}

export interface AlignmentsFile {
  version: 1;
  createdBy: string;
  /** The input folder, absolute. */
  source: string;
  /** Crop geometry and every option that changes the output; a rerun with others starts clean. */
  options: Record<string, unknown>;
  identity: { mode: string; threshold: number; centroid: number[] | null; faces: number; person: number } | null;
  images: ImageRecord[];
}

export const ALIGNMENTS_FILE = 'alignments.json';

export function readAlignments(file: string): AlignmentsFile | null {
  if (!fs.existsSync(file)) return null;
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as AlignmentsFile;
    return parsed.version === 1 && Array.isArray(parsed.images) ? parsed : null;
  } catch {
    return null; // unreadable: treat as absent, the run starts clean
  }
}

export async function writeAlignments(file: string, data: AlignmentsFile): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(data) + '\n');
}

/** Round for storage: 1/100 px is far below what any stage can see. */
export function roundPoints(points: readonly Point[]): Point[] {
  return points.map(([x, y]) => [Math.round(x * 100) / 100, Math.round(y * 100) / 100]);
}

/**
 * A face's 68 landmarks in its aligned crop's pixels (the matrix applied to the photo landmarks).
 * The face mask of a crop is derived from these: faceMask(alignedLandmarks(face), size).
 */
export function alignedLandmarks(face: FaceRecord): Point[] {
  if (!face.matrix) throw new Error('this face was rejected before alignment: it has no matrix');
  return applyMatrixAll(face.matrix, face.landmarks);
}
