// Swapping a photo or a folder of photos into an output folder: progress on stderr, every output
// written atomically with the provenance label, inputs never touched, and every photo or face that
// was not swapped counted under a named reason (unreadable files by lib/util/image.ts's reasons).

import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../engine/backend';
import { createDetector } from '../faces/extract';
import type { DetectorKind } from '../faces/detector';
import { removeStaleTemps, writeFileAtomic } from '../util/fsutil';
import { listImageFiles, tryDecodeImage } from '../util/image';
import { Progress, type ProgressState } from '../util/progress';
import type { Blender } from './blend';
import { DEFAULT_SHARPEN, type SharpenOptions } from './sharpen';
import type { ColourMatcher } from './colour';
import { drawMark } from './mark';
import { DEFAULT_SWAP_MASK, type SwapMaskOptions } from './blend-mask';
import type { SwapModel } from './model';
import { folderIdentity, sourcePerson } from './person';
import { SwapMeter, targetReference, type SwapMeasures } from './stage-scores';
import { encodeLabelled, provenanceLabel, readProvenance } from './provenance';
import { swapImage, type SwapImageOptions } from './swap-image';

/** True when the file is an image this project wrote (it carries the provenance label). */
async function isLabelled(file: string): Promise<boolean> {
  try {
    const p = await readProvenance(await fs.promises.readFile(file));
    return p.exif !== null || p.xmp !== null;
  } catch {
    return false;
  }
}

export interface SwapOptions {
  /** Decode with this identity's decoder ('b' puts B's face into photos of A). */
  to: string;
  /** 'all' faces, or only 'source' faces: those the recognition net says are the other identity. */
  faces?: 'all' | 'source';
  mask?: SwapMaskOptions;
  colour?: ColourMatcher;
  blend?: Blender;
  /** Unsharp mask of the enlarged face (amount 0: off). */
  sharpen?: SharpenOptions;
  /** PNG keeps every untouched pixel bit-identical; JPEG is smaller. */
  format?: 'png' | 'jpeg';
  quality?: number;
  /** Draw a visible "SYNTHETIC" mark in a corner too. */
  mark?: boolean;
  detector?: DetectorKind;
  minScore?: number;
  minFace?: number;
  identityThreshold?: number;
  /** Measure identity transfer and landmark error before and after post-processing. */
  measure?: boolean;
  /** Swap photos again even when their output already exists (default: skip them). */
  overwrite?: boolean;
  progressStream?: NodeJS.WriteStream | null;
  onProgress?: (state: ProgressState) => void;
}

export const DEFAULT_SWAP = {
  faces: 'all' as 'all' | 'source',
  colour: 'histogram' as ColourMatcher,
  blend: 'alpha' as Blender,
  sharpen: DEFAULT_SHARPEN,
  format: 'png' as 'png' | 'jpeg',
  quality: 92,
  detector: 'ssd' as DetectorKind,
  minScore: 0.5,
  minFace: 40,
};

export interface SwapSummary {
  /** Candidate image files. */
  images: number;
  /** Faces found in them. */
  faces: number;
  /** Faces swapped. */
  swapped: number;
  /** Why photos or faces were not swapped, with counts. */
  skipped: Record<string, number>;
  /** The output folder. */
  out: string;
  /** Output files written. */
  written: string[];
  label: string;
  seconds: number;
  imagesPerSecond: number;
  /** With `measure`: the swapped faces scored before and after post-processing. */
  measured?: SwapMeasures | null;
}

/** Output name for an input: its stem with the output's extension, never an input's own path. */
function outputName(file: string, outDir: string, ext: string, taken: Set<string>, inputs: Set<string>): string {
  const stem = path.basename(file).replace(/\.[^.]+$/, '');
  let name = path.join(outDir, `${stem}.${ext}`);
  for (let k = 1; taken.has(name) || inputs.has(name); k++) name = path.join(outDir, `${stem}-swapped${k > 1 ? `-${k}` : ''}.${ext}`);
  taken.add(name);
  return name;
}

/** Swap the faces in `input` (a photo, a folder of photos, or a list of photo files) and write the results into `outDir`. */
export async function swapPath(model: SwapModel, input: string | readonly string[], outDir: string, options: SwapOptions): Promise<SwapSummary> {
  const o = { ...DEFAULT_SWAP, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as SwapOptions & typeof DEFAULT_SWAP;
  if (!model.identities.includes(o.to)) throw new Error(`the model has no identity "${o.to}" (it has ${model.identities.join(', ')})`);
  await initBackend();
  const started = Date.now();
  const files = typeof input !== 'string' ? input.map((f) => path.resolve(f)) : fs.statSync(input).isDirectory() ? (await listImageFiles(input)).files : [path.resolve(input)];
  const source = model.identities.find((id) => id !== o.to);
  const person = await sourcePerson(model, o.to, o.faces, o.identityThreshold);
  const imageOptions: SwapImageOptions = { identity: o.to, mask: o.mask ?? DEFAULT_SWAP_MASK, colour: o.colour, blend: o.blend, sharpen: o.sharpen, minScore: o.minScore, minFace: o.minFace, person, stages: o.measure === true };
  // --measure needs both people's identities from the model's training folders.
  const meter =
    o.measure && source && model.data[source] && model.data[o.to]
      ? new SwapMeter(
          person?.descriptor ?? (await folderIdentity(model.data[source], model.geometry)),
          await folderIdentity(model.data[o.to], model.geometry),
          await targetReference(model.data[o.to], model.inputSize, model.cropFraction),
        )
      : null;
  const detector = await createDetector(o.detector, o.minScore);
  const label = provenanceLabel();
  const summary: SwapSummary = { images: files.length, faces: 0, swapped: 0, skipped: {}, out: path.resolve(outDir), written: [], label, seconds: 0, imagesPerSecond: 0 };
  const count = (reason: string) => (summary.skipped[reason] = (summary.skipped[reason] ?? 0) + 1);
  const inputs = new Set(files.map((f) => path.resolve(f)));
  const taken = new Set<string>();
  fs.mkdirSync(outDir, { recursive: true });
  // Temporary files of a run that was killed mid-write.
  removeStaleTemps(outDir);
  const progress = new Progress('swap', files.length, { unit: 'images', stream: o.progressStream, onUpdate: o.onProgress });
  try {
    for (const file of files) {
      // Names are given in folder order to the photos that get swapped, so a rerun of the same
      // folder finds each photo's output under the same name (and skips it when it is there).
      const target = outputName(file, path.resolve(outDir), o.format === 'jpeg' ? 'jpg' : 'png', taken, inputs);
      let written = false;
      if (!o.overwrite && fs.existsSync(target) && (await isLabelled(target))) {
        count('already swapped');
        written = true;
      } else {
        const decoded = await tryDecodeImage(file);
        if (decoded.ok === false) count(decoded.reason);
        else {
          const r = await swapImage(decoded.image, detector, model, imageOptions);
          summary.faces += r.faces;
          summary.swapped += r.swapped;
          r.skipped.forEach(count);
          await meter?.add(r.stages);
          if (r.faces === 0) count('no face');
          if (r.swapped > 0) {
            if (o.mark) drawMark(r.image);
            await writeFileAtomic(target, await encodeLabelled(r.image, o.format, label, o.quality));
            summary.written.push(target);
            written = true;
          }
        }
      }
      if (!written) taken.delete(target);
      progress.tick();
    }
  } finally {
    // Also on a failed write: the bar's timer would otherwise keep the process alive.
    progress.stop();
  }
  if (meter) summary.measured = meter.result();
  summary.seconds = (Date.now() - started) / 1000;
  summary.imagesPerSecond = files.length / Math.max(summary.seconds, 1e-3);
  return summary;
}
