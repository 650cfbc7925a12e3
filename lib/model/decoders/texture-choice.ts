// Which of a person's training faces a warping decoder keeps as its photo (lib/model/decoders/warping-layers.ts).
//
// The most typical face in pixels has the average pose, expression and light, which is what the
// flow finds easiest to move; but it is not always the person's most recognisable look, and every
// swap inherits the photo's look. On lfw-pair, Bush's most typical face moved onto the landmarks of
// his own held-out faces verified as Bush 0.45 of the time; the third most typical, 0.81. So among
// the most typical few, the choice is the one that stays most like the person when it is moved: each
// candidate is moved onto the landmarks of a sample of the other training faces (as the decoder will
// move it) and scored by the median distance of those renders' recognition descriptors to the
// person's mean descriptor. Only training faces are used: the held-out ones stay unseen.

import * as tf from '@tensorflow/tfjs';
import { descriptorDistance, faceDescriptor, meanDescriptor } from '../../faces/recognition';
import type { Point } from '../../faces/types';
import { eachFace } from '../../metrics/landmarks';
import { median } from '../../util/stats';
import { readTexture, textureCandidates, type TextureSource } from './warping-layers';
import { facesToTensor } from '../../data/face-set';
import { coordinateTensor } from './texture-coords';

export interface TextureChoiceOptions {
  /** How many of the most typical faces compete. */
  candidates: number;
  /** Onto how many other training faces' landmarks each candidate is moved. */
  probes: number;
  /** How many training faces make the person's mean descriptor. */
  reference: number;
}

export const DEFAULT_TEXTURE_CHOICE: TextureChoiceOptions = { candidates: 12, probes: 16, reference: 64 };

export interface TextureChoice {
  /** The chosen face (an index into the set). */
  index: number;
  /** Its renders' median descriptor distance to the person's mean. */
  distance: number;
  /** The same for the most typical face, the choice without a recognition net. */
  typicalDistance: number;
}

/** `count` indices spread evenly over `items`. */
function spread<T>(items: readonly T[], count: number): T[] {
  const step = Math.max(1, items.length / count);
  return Array.from({ length: Math.min(count, items.length) }, (_, i) => items[Math.floor(i * step)]);
}

/** Face `k`'s photo moved onto the landmarks of each of `onto` (as a warping decoder reads it), [n, s, s, 3]. */
function movedOnto(set: TextureSource, k: number, onto: number[], size: number): tf.Tensor4D {
  return tf.tidy(() => {
    const photo = facesToTensor([set.pixels[k]], size).squeeze([0]) as tf.Tensor3D;
    return readTexture(photo, coordinateTensor(onto.map((i) => set.landmarks[i] as Point[]), set.landmarks[k] as Point[], size, size));
  });
}

/**
 * The face among the most typical that, moved onto other training faces' landmarks, stays nearest to
 * the person's mean recognition descriptor. `size`: the side of the faces' pixels.
 */
export async function identityTexture(set: TextureSource, size: number, options: Partial<TextureChoiceOptions> = {}): Promise<TextureChoice> {
  const o = { ...DEFAULT_TEXTURE_CHOICE, ...options };
  const ranked = textureCandidates(set);
  const reference = facesToTensor(spread(set.pixels, o.reference), size);
  const mean = meanDescriptor(await eachFace(reference, faceDescriptor));
  reference.dispose();
  const probes = spread(ranked, o.probes + 1);
  const scores = new Map<number, number>();
  for (const k of ranked.slice(0, o.candidates)) {
    const onto = probes.filter((i) => i !== k).slice(0, o.probes);
    if (onto.length === 0) break; // a single face with landmarks: nothing to move it onto
    const moved = movedOnto(set, k, onto, size);
    scores.set(k, median((await eachFace(moved, faceDescriptor)).map((d) => descriptorDistance(d, mean))));
    moved.dispose();
  }
  if (scores.size === 0) return { index: ranked[0], distance: NaN, typicalDistance: NaN };
  const [index, distance] = [...scores].reduce((best, s) => (s[1] < best[1] ? s : best));
  return { index, distance, typicalDistance: scores.get(ranked[0])! };
}
