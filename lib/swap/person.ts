// "Only the faces of person A": compare each face's recognition descriptor with A's identity,
// taken from the training folder (the centroid extraction's identity filter stored, or the mean
// descriptor of some of the crops), so strangers in a photo keep their own faces.

import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { ALIGNMENTS_FILE, readAlignments } from '../faces/alignments';
import { DESCRIPTOR_INPUT, faceDescriptor, meanDescriptor } from '../faces/recognition';
import { alignmentMatrix, templateInCrop, type CropGeometry } from '../faces/template';
import type { Point } from '../faces/types';
import { warpAffine } from '../faces/resample';
import { decodeImage, imageToTensor, listImageFiles } from '../util/image';
import { DEFAULT_IDENTITY_THRESHOLD } from '../faces/identity-filter';
import type { SwapModel } from './model';

/** The recognition net's own tight alignment (as extraction describes faces). */
const DESCRIPTOR_CROP = { size: DESCRIPTOR_INPUT, margin: 0.05 };

/** Descriptor of a face with these landmarks in an image tensor. */
export async function describeFace(image: tf.Tensor3D, landmarks: readonly Point[]): Promise<Float32Array> {
  const crop = warpAffine(image, alignmentMatrix(landmarks, DESCRIPTOR_CROP), DESCRIPTOR_INPUT);
  try {
    return await faceDescriptor(crop);
  } finally {
    crop.dispose();
  }
}

/** Identity of a training face folder: the stored centroid, else the mean over up to `limit` crops. */
export async function folderIdentity(dir: string, geometry: CropGeometry, limit = 24): Promise<Float32Array> {
  const centroid = readAlignments(path.join(dir, ALIGNMENTS_FILE))?.identity?.centroid;
  if (centroid?.length) return Float32Array.from(centroid);
  // Aligned crops put every face on the template, so the template's landmarks describe them all.
  const landmarks = templateInCrop(geometry);
  const descriptors: Float32Array[] = [];
  for (const file of (await listImageFiles(dir)).files.slice(0, limit)) {
    const img = await decodeImage(file, { minSide: 16 }).catch(() => null);
    if (!img || img.width !== geometry.size || img.height !== geometry.size) continue;
    const t = imageToTensor(img);
    try {
      descriptors.push(await describeFace(t, landmarks));
    } finally {
      t.dispose();
    }
  }
  if (descriptors.length === 0) throw new Error(`${dir}: no aligned face crops of ${geometry.size} px to learn the person from`);
  return meanDescriptor(descriptors);
}

/**
 * The filter `--faces source` asks for: the model's other identity (the one not decoded to) and
 * the distance within which a face counts as that person; null for 'all'. Throws when the model
 * does not know that identity's training folder.
 */
export async function sourcePerson(model: SwapModel, to: string, faces: 'all' | 'source' | undefined, threshold = DEFAULT_IDENTITY_THRESHOLD): Promise<{ descriptor: Float32Array; threshold: number } | null> {
  if (faces !== 'source') return null;
  const source = model.identities.find((id) => id !== to);
  if (!source || !model.data[source]) throw new Error(`--faces source needs the model's training folder for the other identity`);
  return { descriptor: await folderIdentity(model.data[source], model.geometry), threshold };
}
