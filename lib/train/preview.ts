// Preview grids: per row, a face of A, A->A (reconstruction), A->B (swap), a face of B, B->B, B->A.
// The swaps are the point of the whole exercise; the reconstructions show how far training is.

import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { encodeImage, tensorToImage } from '../util/image';
import { writeFileAtomic } from '../util/fsutil';
import { autoencodeRgb, swapDecodeRgb, type Autoencoder } from '../model/builder';

/** Faces [n, s, s, 3] as uint8 RGB tensor rows -> one [n*s, 6*s, 3] grid. */
export function previewGrid(ae: Autoencoder, facesA: tf.Tensor4D, facesB: tf.Tensor4D, ids: [string, string] = ['a', 'b']): tf.Tensor3D {
  return tf.tidy(() => {
    const [a, b] = ids;
    const n = Math.min(facesA.shape[0], facesB.shape[0]);
    const fa = facesA.slice(0, n), fb = facesB.slice(0, n);
    const cols = [fa, autoencodeRgb(ae, fa, a), swapDecodeRgb(ae, fa, b), fb, autoencodeRgb(ae, fb, b), swapDecodeRgb(ae, fb, a)];
    const rows = tf.concat(cols, 2); // [n, s, 6s, 3]
    const [, s, w, c] = rows.shape;
    return rows.reshape([n * s, w, c]) as tf.Tensor3D;
  });
}

/** Render the grid and write it as a PNG (atomically); returns the path. */
export async function writePreview(file: string, ae: Autoencoder, facesA: tf.Tensor4D, facesB: tf.Tensor4D, ids?: [string, string]): Promise<string> {
  const grid = previewGrid(ae, facesA, facesB, ids);
  try {
    await writeFileAtomic(file, await encodeImage(await tensorToImage(grid), 'png'));
  } finally {
    grid.dispose();
  }
  return file;
}

/** The kept preview grids of a model folder, in step order. */
export function previewFrames(modelDir: string): Array<{ step: number; file: string }> {
  const dir = path.join(modelDir, 'previews');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .flatMap((f) => {
      const m = /^step-(\d+)\.png$/.exec(f);
      return m ? [{ step: Number(m[1]), file: path.join(dir, f) }] : [];
    })
    .sort((a, b) => a.step - b.step);
}

/**
 * On resume: delete the previews of steps after the checkpoint. A killed run's later steps are
 * trained again, and their old pictures would show a model that no longer exists (in a timelapse too).
 */
export function dropPreviewsAfter(modelDir: string, step: number): number {
  const stale = previewFrames(modelDir).filter((p) => p.step > step);
  for (const p of stale) fs.rmSync(p.file, { force: true });
  return stale.length;
}
