// A face set: the faces of one folder as a model sees them, from extract's aligned crops or plain photos
// with the face near the centre (then cropFraction cuts the centre out). Every file is decoded safely, cut to
// a centred square, resized to the model's input size and kept as bytes; files that are not usable
// images are skipped with the reason. Decoded faces are cached per file for the process, so a
// notebook that reloads a folder or starts a second run does not decode it again.

import { promises as fs } from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { centreCropResize, listImageFiles, tryDecodeImage, type RejectReason } from '../util/image';

export interface FaceSet {
  dir: string;
  /** Side of every face in pixels. */
  size: number;
  /** Base names, in the order of `pixels`. */
  files: string[];
  /** Interleaved RGB bytes, size * size * 3 each. */
  pixels: Uint8Array[];
  /** Width and height of each file before cropping and resizing (to map its landmarks). */
  sources: Array<{ width: number; height: number }>;
  /** Files that looked like images but could not be used. */
  skipped: Array<{ file: string; reason: RejectReason; detail: string }>;
}

export interface LoadFacesOptions {
  /** Output side in pixels: the model's input size. */
  size: number;
  /** Side of the centred square crop as a fraction of the shorter image side. Default 1. */
  cropFraction?: number;
}

const cache = new Map<string, { face: Uint8Array; width: number; height: number }>();

async function cacheKey(file: string, size: number, crop: number): Promise<string> {
  const st = await fs.stat(file);
  return `${file}|${st.size}|${st.mtimeMs}|${size}|${crop}`;
}

/** One face file as training sees it: its centre square at `size` pixels (and the file's own size). */
export async function decodeFace(file: string, size: number, cropFraction: number): Promise<{ ok: true; face: Uint8Array; width: number; height: number } | { ok: false; reason: RejectReason; detail: string }> {
  // Small aligned crops are fine: the resize brings them to the model size.
  const r = await tryDecodeImage(file, { minSide: 16 });
  if (r.ok === false) return r;
  return { ok: true, face: await centreCropResize(r.image.data, r.image.width, r.image.height, size, cropFraction), width: r.image.width, height: r.image.height };
}

export async function loadFaces(dir: string, options: LoadFacesOptions): Promise<FaceSet> {
  const { size, cropFraction = 1 } = options;
  if (!(cropFraction > 0 && cropFraction <= 1)) throw new Error(`cropFraction must be in (0, 1], got ${cropFraction}`);
  const abs = path.resolve(dir);
  const listing = await listImageFiles(abs);
  const set: FaceSet = { dir: abs, size, files: [], pixels: [], sources: [], skipped: [] };
  for (const file of listing.files) {
    const key = await cacheKey(file, size, cropFraction).catch(() => null);
    let entry = key ? cache.get(key) : undefined;
    if (!entry) {
      const r = await decodeFace(file, size, cropFraction);
      if (r.ok === false) {
        set.skipped.push({ file: path.basename(file), reason: r.reason, detail: r.detail });
        continue;
      }
      entry = r;
      if (key) cache.set(key, entry);
    }
    set.files.push(path.basename(file));
    set.pixels.push(entry.face);
    set.sources.push({ width: entry.width, height: entry.height });
  }
  return set;
}

/** FNV-1a: a stable hash of a file name, the same on every machine and run. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (const ch of Buffer.from(s, 'utf8')) {
    h ^= ch;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * Split faces into training and held-out indices by a hash of each file name, so a face stays on
 * the same side when files are added or the folder is listed in another order. At least one face
 * is held out once there are 4 or more, and at least one is always left to train on.
 */
export function splitHoldout(files: string[], fraction: number): { train: number[]; heldOut: number[] } {
  const scored = files.map((f, i) => ({ i, u: fnv1a(f) / 2 ** 32 }));
  let held = new Set(scored.filter((s) => s.u < fraction).map((s) => s.i));
  if (fraction > 0 && held.size === 0 && files.length >= 4) held = new Set([scored.reduce((a, b) => (b.u < a.u ? b : a)).i]);
  if (held.size === files.length && files.length > 0) held.delete(scored.reduce((a, b) => (b.u > a.u ? b : a)).i);
  const all = files.map((_, i) => i);
  return { train: all.filter((i) => !held.has(i)), heldOut: all.filter((i) => held.has(i)) };
}

/** The subset of a FaceSet at the given indices. */
export function subset(set: FaceSet, indices: number[]): FaceSet {
  return { ...set, files: indices.map((i) => set.files[i]), pixels: indices.map((i) => set.pixels[i]), sources: indices.map((i) => set.sources[i]) };
}

/** Stack faces (RGB bytes) into a [n, s, s, 3] tensor in [0, 1]. */
export function facesToTensor(faces: Uint8Array[], size: number): tf.Tensor4D {
  const data = new Float32Array(faces.length * size * size * 3);
  faces.forEach((f, i) => {
    for (let j = 0; j < f.length; j++) data[i * f.length + j] = f[j] / 255;
  });
  return tf.tensor4d(data, [faces.length, size, size, 3]);
}
