// A labelled set for a fake detector, from the learner's own photos: each photo gives one real
// crop (the photo's face, aligned) and one fake (the same photo after this project's swap, cut
// with the same landmarks, so only the swap differs). Splits keep both crops of a photo on one
// side, so the detector is never tested on a photo it has seen.

import { largestFirst, type FaceDetector } from '../faces/detector';
import { warpAffine } from '../faces/resample';
import { alignmentMatrix } from '../faces/template';
import type { DetectedFace } from '../faces/types';
import { decodeImage, imageToTensor, tensorToImage, type RgbImage } from '../util/image';
import { DEFAULT_SWAP } from '../swap/swap-photos';
import { DEFAULT_SWAP_MASK } from '../swap/blend-mask';
import type { SwapModel } from '../swap/model';
import { swapFaces } from '../swap/swap-image';
import { splitHoldout } from '../data/face-set';
import type { LabelledFaces } from './fake-detector';

export interface FakeSet extends LabelledFaces {
  /** The photo each face came from (real and fake of one photo share it). */
  photos: string[];
}

export interface FakeSetOptions {
  /** Photos of each person; each one's face is swapped to the other person. */
  photos: { a: readonly string[]; b: readonly string[] };
  model: SwapModel;
  detector: FaceDetector;
  /** Side of the crops. Default 64. */
  size?: number;
  /** Share of the crop around the face: the swap's blend edge lies inside it. Default 0.2. */
  margin?: number;
  /** One line per photo that gives no pair (unreadable, no face, not swappable). */
  log?: (line: string) => void;
  /** Called after each photo. */
  onPhoto?: (done: number, total: number) => void;
}

async function crop(image: RgbImage, face: DetectedFace, size: number, margin: number): Promise<Uint8Array> {
  const t = imageToTensor(image);
  const c = warpAffine(t, alignmentMatrix(face.landmarks, { size, margin }), size);
  try {
    return (await tensorToImage(c)).data;
  } finally {
    t.dispose();
    c.dispose();
  }
}

/** Real and swapped crops of every usable photo (label 0 and 1). */
export async function buildFakeSet(o: FakeSetOptions): Promise<FakeSet> {
  const { size = 64, margin = 0.2, log = () => undefined } = o;
  const set: FakeSet = { pixels: [], labels: [], photos: [], size };
  const jobs = [...o.photos.a.map((file) => ({ file, to: 'b' })), ...o.photos.b.map((file) => ({ file, to: 'a' }))];
  let done = 0;
  for (const { file, to } of jobs) {
    try {
      const image = await decodeImage(file);
      // The largest face that passes the swap's own checks.
      const faces = largestFirst((await o.detector.detect(image)).filter((f) => f.score >= DEFAULT_SWAP.minScore && Math.min(f.box.width, f.box.height) >= DEFAULT_SWAP.minFace));
      if (faces.length === 0) {
        log(`${file}: no usable face`);
        continue;
      }
      const face = faces[0]!;
      const swapped = await swapFaces(image, [face], o.model, {
        identity: to, mask: DEFAULT_SWAP_MASK, colour: DEFAULT_SWAP.colour, blend: DEFAULT_SWAP.blend,
        minScore: DEFAULT_SWAP.minScore, minFace: DEFAULT_SWAP.minFace, person: null,
      });
      if (swapped.swapped === 0) {
        log(`${file}: not swapped (${swapped.skipped.join(', ')})`);
        continue;
      }
      set.pixels.push(await crop(image, face, size, margin), await crop(swapped.image, face, size, margin));
      set.labels.push(0, 1);
      set.photos.push(file, file);
    } catch (e) {
      log(`${file}: ${(e as Error).message.split('\n')[0]}`);
    } finally {
      o.onPhoto?.(++done, jobs.length);
    }
  }
  return set;
}

/** The faces of the photos whose indices are listed. */
function pick(set: FakeSet, keep: Set<string>): FakeSet {
  const idx = set.photos.map((p, i) => (keep.has(p) ? i : -1)).filter((i) => i >= 0);
  return { size: set.size, pixels: idx.map((i) => set.pixels[i]!), labels: idx.map((i) => set.labels[i]!), photos: idx.map((i) => set.photos[i]!) };
}

/** Train and test sets split by photo (chosen by a hash of the file name, as training's hold-out). */
export function splitByPhoto(set: FakeSet, testFraction: number): { train: FakeSet; test: FakeSet } {
  const photos = [...new Set(set.photos)];
  const split = splitHoldout(photos, testFraction);
  return { train: pick(set, new Set(split.train.map((i) => photos[i]!))), test: pick(set, new Set(split.heldOut.map((i) => photos[i]!))) };
}
