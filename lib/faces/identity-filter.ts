// "Is this the person?": keep the faces whose descriptor lies near the folder's dominant identity
// (or near a reference face), reject the rest. Scraped folders of one person contain bystanders,
// and a decoder trained on them learns a blend of people.

import { descriptorDistance, meanDescriptor } from './recognition';

/** face-api's recognition net puts the same person within about 0.6 of themself. */
export const DEFAULT_IDENTITY_THRESHOLD = 0.55;

export interface IdentityDecision {
  centroid: Float32Array;
  /** Distance of every descriptor to the centroid, in input order. */
  distances: number[];
  /** Which descriptors are the person (distance below the threshold). */
  isPerson: boolean[];
}

/**
 * The dominant identity of a set of faces: start from the face with the most neighbours within
 * the threshold, take the mean of those neighbours, and refine it a few times by re-collecting
 * the faces near the mean. Works when the person is the largest group, even a minority of faces.
 */
export function dominantIdentity(descriptors: ReadonlyArray<ArrayLike<number>>, threshold = DEFAULT_IDENTITY_THRESHOLD): IdentityDecision {
  if (descriptors.length === 0) return { centroid: new Float32Array(128), distances: [], isPerson: [] };
  const neighbours = descriptors.map((d) => descriptors.filter((e) => descriptorDistance(d, e) < threshold));
  let best = 0;
  for (let i = 1; i < neighbours.length; i++) if (neighbours[i].length > neighbours[best].length) best = i;
  let centroid = meanDescriptor(neighbours[best]);
  for (let iter = 0; iter < 5; iter++) {
    const members = descriptors.filter((d) => descriptorDistance(d, centroid) < threshold);
    if (members.length === 0) break;
    centroid = meanDescriptor(members);
  }
  return decide(descriptors, centroid, threshold);
}

/** Faces near the mean of the reference descriptors are the person. */
export function referenceIdentity(descriptors: ReadonlyArray<ArrayLike<number>>, reference: ReadonlyArray<ArrayLike<number>>, threshold = DEFAULT_IDENTITY_THRESHOLD): IdentityDecision {
  if (reference.length === 0) throw new Error('referenceIdentity: no reference face');
  return decide(descriptors, meanDescriptor(reference), threshold);
}

function decide(descriptors: ReadonlyArray<ArrayLike<number>>, centroid: Float32Array, threshold: number): IdentityDecision {
  const distances = descriptors.map((d) => descriptorDistance(d, centroid));
  return { centroid, distances, isPerson: distances.map((d) => d < threshold) };
}
