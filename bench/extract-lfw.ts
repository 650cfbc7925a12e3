// Extraction quality and speed on the LFW pair (../shared/data/lfw-pair): how many photos yield
// the labelled person's face, and what the identity filter rejects.
//
//   node --import tsx bench/extract-lfw.ts [--out DIR] [--detector ssd|tiny] [--min-score 0.5] [--identity dominant|off]
//
// LFW photos are 250x250 crops centred on the labelled person, so "the labelled person's face" is
// the face whose landmarks' centre lies within 30 px of the photo's centre. Reruns reuse the
// alignments already in --out (extraction resumes), so the numbers can be recomputed cheaply.

import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { readAlignments, type FaceRecord } from '../lib/faces/alignments';
import { extractFaces } from '../lib/faces/extract';
import { PROJECT_ROOT } from '../lib/util/project';

const { values } = parseArgs({ options: { out: { type: 'string' }, detector: { type: 'string' }, 'min-score': { type: 'string' }, identity: { type: 'string' } } });
const outRoot = values.out ?? path.join(os.tmpdir(), 'deepfake-lab-lfw');
const lfw = path.resolve(PROJECT_ROOT, '..', 'shared', 'data', 'lfw-pair');

const isCentre = (f: FaceRecord) => {
  const cx = f.landmarks.reduce((s, p) => s + p[0], 0) / 68;
  const cy = f.landmarks.reduce((s, p) => s + p[1], 0) / 68;
  return Math.hypot(cx - 125, cy - 125) <= 30;
};

async function main(): Promise<void> {
  const report: Record<string, unknown> = {};
  for (const person of ['George_W_Bush', 'Colin_Powell']) {
    const out = path.join(outRoot, person);
    const summary = await extractFaces(path.join(lfw, person), out, {
      // The identity filter runs the recognition net on every kept face: on by default here, since
      // what it rejects is half of this report; `--identity off` times extraction as `bench` does.
      identity: values.identity === 'off' ? 'off' : 'dominant',
      detector: values.detector === 'tiny' ? 'tiny' : 'ssd',
      minScore: values['min-score'] ? Number(values['min-score']) : undefined,
    });
    const a = readAlignments(summary.alignments)!;
    const photos = a.images.length;
    const centreKept = a.images.filter((i) => i.faces.some((f) => isCentre(f) && !f.rejected)).length;
    // Found: detected with a score above the minimum and aligned (whatever later filters said).
    const centreFound = a.images.filter((i) => i.faces.some((f) => isCentre(f) && f.matrix)).length;
    const faces = a.images.flatMap((i) => i.faces);
    const notPerson = faces.filter((f) => f.rejected === 'not the person');
    report[person] = {
      photos,
      labelledFaceKept: centreKept,
      labelledFaceKeptShare: Number((centreKept / photos).toFixed(4)),
      labelledFaceFound: centreFound,
      labelledFaceFoundShare: Number((centreFound / photos).toFixed(4)),
      notThePerson: { total: notPerson.length, offCentre: notPerson.filter((f) => !isCentre(f)).length, centre: notPerson.filter(isCentre).length },
      offCentreKept: faces.filter((f) => !isCentre(f) && !f.rejected).length,
      byDetector: Object.fromEntries(['ssd', 'tiny'].map((d) => [d, faces.filter((f) => f.detector === d && !f.rejected).length])),
      skipped: summary.skipped,
      imagesPerSecond: Number(summary.imagesPerSecond.toFixed(2)),
      out,
    };
  }
  console.log(JSON.stringify(report, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
