// Synthetic face folders for training tests: two "identities" that differ in colour and shape,
// written as PNGs under a temporary folder. No dependence on ../shared, and tiny (16-32 px).
import { mkdirSync, mkdtempSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ALIGNMENTS_FILE } from '../lib/faces/alignments';
import { templateInCrop } from '../lib/faces/template';
import type { Point } from '../lib/faces/types';
import { encodeImage } from '../lib/util/image';
import { presetConfig, type ModelConfig } from '../lib/model/config';
import { mulberry32 } from './helpers/rng';

/** A blob "face" of one identity: a bright ellipse at a jittered position on a dark background. */
function face(size: number, identity: 0 | 1, rand: () => number): Uint8Array {
  const data = new Uint8Array(size * size * 3);
  const cx = size * (0.5 + (rand() - 0.5) * 0.2), cy = size * (0.5 + (rand() - 0.5) * 0.2);
  const [rx, ry] = identity === 0 ? [0.3 * size, 0.38 * size] : [0.38 * size, 0.28 * size];
  const colour = identity === 0 ? [220, 150, 110] : [110, 160, 230];
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const inside = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 < 1;
      for (let c = 0; c < 3; c++) data[(y * size + x) * 3 + c] = inside ? colour[c] : 30 + c * 10 + ((x * 7 + y * 3) % 11);
    }
  return data;
}

/** Writes `count` faces per identity; returns the two folders (and one for a model). */
export async function syntheticFaces(count = 8, size = 32, seed = 1): Promise<{ root: string; a: string; b: string; model: string }> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'dfl-train-'));
  const rand = mulberry32(seed);
  const dirs = { a: path.join(root, 'a'), b: path.join(root, 'b') };
  for (const [i, dir] of [dirs.a, dirs.b].entries()) {
    mkdirSync(dir, { recursive: true });
    for (let k = 0; k < count; k++) {
      const png = await encodeImage({ data: face(size, i as 0 | 1, rand), width: size, height: size }, 'png');
      writeFileSync(path.join(dir, `face_${String(k).padStart(3, '0')}.png`), png);
    }
  }
  return { root, ...dirs, model: path.join(root, 'model') };
}

/** The `tiny` preset at 16 px: about 0.2 M parameters, tens of milliseconds per step. */
export function tinyConfig(overrides: Partial<ModelConfig> = {}): ModelConfig {
  return presetConfig('tiny', { inputSize: 16, ...overrides });
}

/** An alignments.json for a folder of `side` px "crops": each face gets the template's landmarks, shifted a little per face. */
export function alignedFolder(dir: string, n: number, side: number): Map<string, Point[]> {
  mkdirSync(dir, { recursive: true });
  const geometry = { size: side, margin: 0.2 };
  const byFile = new Map<string, Point[]>();
  const images = [];
  for (let i = 0; i < n; i++) {
    const file = `face_${String(i).padStart(3, '0')}.png`;
    // The identity matrix: photo pixels are crop pixels, so the landmarks are the crop's.
    const landmarks = templateInCrop(geometry).map(([x, y]): Point => [x + (i - n / 2) * 3, y + (i % 3) * 3 - 3]);
    byFile.set(file, landmarks);
    images.push({ file: `photo_${i}.png`, bytes: 1, mtimeMs: 1, width: side, height: side, status: 'done', hash: null, duplicateOf: null, reason: null, detail: null,
      faces: [{ index: 0, box: { x: 0, y: 0, width: side, height: side }, score: 1, detector: 'ssd', landmarks, matrix: [[1, 0, 0], [0, 1, 0]], yaw: 0, sharpness: 100, descriptor: null, identityDistance: null, file, rejected: null }] });
  }
  writeFileSync(path.join(dir, ALIGNMENTS_FILE), JSON.stringify({ version: 1, createdBy: 'test', source: dir, options: geometry, identity: null, images }));
  return byFile;
}
