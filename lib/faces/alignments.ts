// alignments.json: everything extraction learned about a folder, per source image and per face,
// so a swap can map a face back into its photo and a rerun can skip finished work.

import { z } from 'zod';
import { writeFileAtomic } from '../util/fsutil';
import { CorruptFile, readJsonFileIfExists } from '../util/jsonfile';
import { applyMatrixAll } from './align';
import { BoxSchema, MatrixSchema, PointSchema, type Point } from './types';

export const FaceRecordSchema = z.object({
  /** Order of the face in the detector's output for this photo. */
  index: z.number(),
  box: BoxSchema,
  score: z.number(),
  /** Which detector found the face ('ssd' or 'tiny'). */
  detector: z.string(),
  /** 68 landmarks in the source photo's pixels. */
  landmarks: z.array(PointSchema),
  /** Photo -> aligned crop (2x3); its inverse maps any crop point or pixel back into the photo. */
  matrix: MatrixSchema.nullable(),
  /** Estimated head turn in degrees (0 frontal). */
  yaw: z.number().nullable(),
  /** Variance of the Laplacian of the crop (higher = sharper). */
  sharpness: z.number().nullable(),
  /** Recognition descriptor (128 numbers), when identity filtering is on. */
  descriptor: z.array(z.number()).nullable(),
  /** Distance to the person's identity centroid, when identity filtering is on. */
  identityDistance: z.number().nullable(),
  /** The crop, relative to the faces folder: `name.png` when kept, `rejected/<reason>/name.png` when not. */
  file: z.string().nullable(),
  /** Why the face is not used, or null when it is. */
  rejected: z.string().nullable(),
});
export type FaceRecord = z.infer<typeof FaceRecordSchema>;

export const ImageRecordSchema = z.object({
  /** Path relative to the input folder. */
  file: z.string(),
  /** Size and modification time when processed: a changed file is processed again. */
  bytes: z.number(),
  mtimeMs: z.number(),
  width: z.number().nullable(),
  height: z.number().nullable(),
  /** 'done' (decoded and searched for faces) or 'rejected' (not decodable: see reason). */
  status: z.enum(['done', 'rejected']),
  /** 64-bit perceptual hash of the decoded photo (lib/util/phash.ts), hex. */
  hash: z.string().nullable(),
  /** An earlier photo of the folder this one re-encodes (its faces are rejected as "duplicate"). */
  duplicateOf: z.string().nullable(),
  reason: z.string().nullable(),
  detail: z.string().nullable(),
  faces: z.array(FaceRecordSchema),
});
export type ImageRecord = z.infer<typeof ImageRecordSchema>;

export const AlignmentsFileSchema = z.object({
  version: z.literal(1),
  createdBy: z.string(),
  /** The input folder, absolute. */
  source: z.string(),
  /** Crop geometry and every option that changes the output; a rerun with others starts clean. */
  options: z.record(z.string(), z.unknown()),
  identity: z.object({ mode: z.string(), threshold: z.number(), centroid: z.array(z.number()).nullable(), faces: z.number(), person: z.number() }).nullable(),
  images: z.array(ImageRecordSchema),
});
export type AlignmentsFile = z.infer<typeof AlignmentsFileSchema>;

export const ALIGNMENTS_FILE = 'alignments.json';

/**
 * A faces folder's alignments, null when it has none. A damaged file throws CorruptFile naming it:
 * the stages that read it cannot do without it, and only extract (which reads the file itself,
 * with AlignmentsFileSchema, and rebuilds it) can repair it.
 */
export function readAlignments(file: string): AlignmentsFile | null {
  try {
    return readJsonFileIfExists(file, AlignmentsFileSchema);
  } catch (e) {
    if (e instanceof CorruptFile) throw new CorruptFile(e.file, `${e.why} (run deepfake-lab extract on its photos again to rebuild it)`);
    throw e;
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
