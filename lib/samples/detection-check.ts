// How the normal pipeline sees the renders: does face-api's detector find the face, and how far
// are its landmarks from the rig's true ones? The rig is only useful if both hold (issue 8 asks
// for detection in 95% of renders and a mean landmark error under 5% of the eye distance).

import { createDetector } from '../faces/extract';
import type { FaceDetector } from '../faces/detector';
import { eyeCentres } from '../faces/template';
import type { Point } from '../faces/types';
import { decodeImage } from '../util/image';
import type { Render } from './rig';

/** Mean distance between two 68-point sets over the true set's inter-ocular distance. */
export function landmarkError(found: readonly Point[], truth: readonly Point[]): number {
  const [l, r] = eyeCentres(truth);
  const iod = Math.hypot(r[0] - l[0], r[1] - l[1]);
  let sum = 0;
  for (let i = 0; i < 68; i++) sum += Math.hypot(found[i][0] - truth[i][0], found[i][1] - truth[i][1]);
  return sum / 68 / iod;
}

export interface DetectionCheck {
  renders: number;
  detected: number;
  /** detected / renders. */
  rate: number;
  /** Mean landmark error of the detected faces, as a fraction of the inter-ocular distance. */
  meanLandmarkError: number | null;
  /** Per render: the error, or null when no face matched. */
  errors: Array<number | null>;
}

/** A face counts as found when its landmarks lie within half an eye distance of the truth on average. */
const MATCH = 0.5;

/** Detect on the encoded photos (what extraction would read) and compare with the true landmarks. */
export async function checkDetection(renders: readonly Pick<Render, 'bytes' | 'landmarks'>[], detector?: FaceDetector): Promise<DetectionCheck> {
  const det = detector ?? (await createDetector('ssd', 0.5));
  const errors: Array<number | null> = [];
  for (const r of renders) {
    const faces = (await det.detect(await decodeImage(r.bytes))).filter((f) => f.score >= 0.5);
    const best = Math.min(Infinity, ...faces.map((f) => landmarkError(f.landmarks, r.landmarks)));
    errors.push(best <= MATCH ? best : null);
  }
  const found = errors.filter((e): e is number => e !== null);
  return {
    renders: renders.length,
    detected: found.length,
    rate: renders.length ? found.length / renders.length : 0,
    meanLandmarkError: found.length ? found.reduce((a, b) => a + b, 0) / found.length : null,
    errors,
  };
}
