// How the built-in identities' landmarks (lib/samples/identities.ts) were made.
//
//   node --import tsx bench/samples-pick.ts [--views 24]
//
// 1. Lists every face face-api finds in the six demo photos (score, eye distance, roll, yaw), the
//    table the two people were chosen from.
// 2. For A and B, prints landmarks to store: the mean of face-api's landmarks over `views`
//    camera-only renders (rotated, scaled, shifted copies of the photo, where the rig's mapping
//    is an exact similarity), mapped back into the photo. One detection carries that view's own
//    error (measured: 2.6% and 3.5% of the eye distance against other views); the mean over many
//    views is the face's landmarks as face-api reads them, which is what the rig's truth must be.

import { parseArgs } from 'util';
import { initBackend } from '../lib/engine/backend';
import { createDetector } from '../lib/faces/extract';
import { estimateYaw } from '../lib/faces/filter-measures';
import { eyeCentres } from '../lib/faces/template';
import type { Point } from '../lib/faces/types';
import { decodeImage } from '../lib/util/image';
import { PROJECT_ROOT } from '../lib/util/project';
import { toPhoto } from '../lib/samples/face-frame';
import { landmarkError } from '../lib/samples/detection-check';
import { NEUTRAL, sample } from '../lib/samples/params';
import { loadPerson, render, rigGeometry } from '../lib/samples/rig';

const { values } = parseArgs({ options: { views: { type: 'string' } } });
const views = Number(values.views ?? 24);

async function main(): Promise<void> {
  await initBackend();
  const detector = await createDetector('ssd', 0.5);
  for (let i = 1; i <= 6; i++) {
    const photo = await decodeImage(`${PROJECT_ROOT}/node_modules/@vladmandic/face-api/demo/sample${i}.jpg`);
    const faces = (await detector.detect(photo)).sort((p, q) => p.box.x - q.box.x);
    for (const [k, f] of faces.entries()) {
      const [l, r] = eyeCentres(f.landmarks);
      const roll = (Math.atan2(r[1] - l[1], r[0] - l[0]) * 180) / Math.PI;
      console.log(`sample${i} face ${k + 1} of ${faces.length} from the left: score ${f.score.toFixed(3)}, eye distance ${Math.hypot(r[0] - l[0], r[1] - l[1]).toFixed(0)} px, roll ${roll.toFixed(1)}, yaw ${estimateYaw(f.landmarks).toFixed(1)}`);
    }
  }
  for (const id of ['a', 'b'] as const) {
    const person = await loadPerson(id);
    const sum = person.identity.landmarks.map((): Point => [0, 0]);
    let used = 0, before = 0;
    for (let v = 0; v < views; v++) {
      const s = sample(`pick:${v}`);
      const p = { ...NEUTRAL, roll: s.roll, scale: s.scale, shiftX: s.shiftX, shiftY: s.shiftY, jpegQuality: 92 };
      const r = await render(person, p);
      const found = (await detector.detect(await decodeImage(r.bytes))).filter((f) => landmarkError(f.landmarks, r.landmarks) < 0.5);
      if (found.length !== 1) continue;
      before += landmarkError(found[0].landmarks, r.landmarks);
      // Camera only: output -> local units is the camera's inverse, local -> photo is the face frame's.
      const [a, b, c, d, e, f] = rigGeometry(person, p).cam.toLocal;
      found[0].landmarks.forEach(([x, y], i) => {
        const q = toPhoto(person.frame, [a * x + b * y + c, d * x + e * y + f]);
        sum[i][0] += q[0];
        sum[i][1] += q[1];
      });
      used++;
    }
    const mean = sum.map(([x, y]): Point => [Math.round((x / used) * 10) / 10, Math.round((y / used) * 10) / 10]);
    console.log(`\n${id}: ${used} of ${views} views; stored landmarks' mean error against them ${((100 * before) / used).toFixed(2)}%, moved by ${(100 * landmarkError(mean, person.identity.landmarks)).toFixed(2)}%`);
    console.log(JSON.stringify(mean));
  }
}

void main();
