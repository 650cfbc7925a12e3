// Derives lib/faces/template.json, the canonical face that alignment maps every face onto:
// generalised Procrustes analysis over the 68 landmarks of real photos (by default the LFW pair in
// ../shared/data/lfw-pair: 537 news photos of two men; the face nearest each photo's centre).
//
//   node --import tsx scripts/derive-template.ts [folder ...]
//
// Each shape is centred and scaled to unit RMS size, then all are repeatedly rotated/scaled onto
// their mean (least-squares similarity), until the mean stops moving. The mean is finally rotated
// so the eyes are level and scaled so the 68 points span a unit square.

import * as fs from 'fs';
import * as path from 'path';
import { fitSimilarity, applyMatrixAll } from '../lib/faces/align';
import { createFaceApiDetector } from '../lib/faces/faceapi-detector';
import type { Point } from '../lib/faces/types';
import { listImageFiles, tryDecodeImage } from '../lib/util/image';
import { writeFileAtomic } from '../lib/util/fsutil';
import { Progress } from '../lib/util/progress';
import { PROJECT_ROOT } from '../lib/util/project';

function normalise(shape: Point[]): Point[] {
  const n = shape.length;
  const cx = shape.reduce((s, p) => s + p[0], 0) / n;
  const cy = shape.reduce((s, p) => s + p[1], 0) / n;
  const rms = Math.sqrt(shape.reduce((s, p) => s + (p[0] - cx) ** 2 + (p[1] - cy) ** 2, 0) / n);
  return shape.map(([x, y]) => [(x - cx) / rms, (y - cy) / rms]);
}

function mean(shapes: Point[][]): Point[] {
  return shapes[0].map((_, i) => [
    shapes.reduce((s, sh) => s + sh[i][0], 0) / shapes.length,
    shapes.reduce((s, sh) => s + sh[i][1], 0) / shapes.length,
  ]);
}

const centroid = (pts: Point[]): Point => [pts.reduce((s, p) => s + p[0], 0) / pts.length, pts.reduce((s, p) => s + p[1], 0) / pts.length];

async function main(folders: string[]): Promise<void> {
  const detector = await createFaceApiDetector({ kind: 'ssd', minScore: 0.5 });
  const files = (await Promise.all(folders.map(listImageFiles))).flatMap((l) => l.files);
  const shapes: Point[][] = [];
  const progress = new Progress('landmarks', files.length, { unit: 'images' });
  for (const file of files) {
    const r = await tryDecodeImage(file);
    if (r.ok) {
      const faces = await detector.detect(r.image);
      const centre: Point = [r.image.width / 2, r.image.height / 2];
      const offCentre = (pts: Point[]) => { const [x, y] = centroid(pts); return Math.hypot(x - centre[0], y - centre[1]); };
      const nearest = faces.sort((a, b) => offCentre(a.landmarks) - offCentre(b.landmarks))[0];
      if (nearest) shapes.push(normalise(nearest.landmarks));
    }
    progress.tick();
  }
  progress.stop();

  let template = shapes[0];
  let aligned = shapes;
  for (let iter = 0; iter < 20; iter++) {
    aligned = shapes.map((s) => applyMatrixAll(fitSimilarity(s, template), s));
    const next = normalise(mean(aligned));
    const moved = Math.max(...next.map((p, i) => Math.hypot(p[0] - template[i][0], p[1] - template[i][1])));
    template = next;
    if (moved < 1e-6) break;
  }
  // Eyes level: rotate so the line between the eye centres is horizontal.
  const left = centroid(template.slice(36, 42));
  const right = centroid(template.slice(42, 48));
  const angle = Math.atan2(right[1] - left[1], right[0] - left[0]);
  const cos = Math.cos(-angle), sin = Math.sin(-angle);
  let pts: Point[] = template.map(([x, y]) => [cos * x - sin * y, sin * x + cos * y]);
  // Unit square: the 68 points span [0, 1] along their longer side, centred on the other.
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const side = Math.max(x1 - x0, y1 - y0);
  pts = pts.map(([x, y]) => [(x - x0) / side + (1 - (x1 - x0) / side) / 2, (y - y0) / side + (1 - (y1 - y0) / side) / 2]);

  // How well the template fits the faces it came from (RMS residual in template units).
  const rms = Math.sqrt(aligned.reduce((s, sh) => s + sh.reduce((t, p, i) => t + (p[0] - template[i][0]) ** 2 + (p[1] - template[i][1]) ** 2, 0), 0) / (aligned.length * 68));
  const out = {
    description: 'Mean 68-point face (iBUG 300-W order) by generalised Procrustes analysis; eyes level; the points span a unit square.',
    source: `face-api SSD + 68-point landmarks of the face nearest the centre in ${shapes.length} of ${files.length} photos of ${folders.map((f) => path.basename(f)).join(', ')} (Labeled Faces in the Wild)`,
    residualRms: Number(rms.toFixed(4)),
    points: pts.map(([x, y]) => [Number(x.toFixed(5)), Number(y.toFixed(5))]),
  };
  const file = path.join(PROJECT_ROOT, 'lib', 'faces', 'template.json');
  // One point per line keeps the file readable and its diffs small.
  const text = JSON.stringify({ ...out, points: [] }, null, 1).replace('"points": []', `"points": [\n${out.points.map((p) => `  [${p[0]}, ${p[1]}]`).join(',\n')}\n ]`);
  await writeFileAtomic(file, text + '\n');
  console.error(`wrote ${file} from ${shapes.length} faces (residual RMS ${out.residualRms})`);
}

const defaults = ['George_W_Bush', 'Colin_Powell'].map((p) => path.resolve(PROJECT_ROOT, '..', 'shared', 'data', 'lfw-pair', p));
main(process.argv.length > 2 ? process.argv.slice(2) : defaults).catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
