import * as fs from 'fs';
import { DEFAULT_EXTRACT, extractFaces, type ExtractSummary } from '../faces/extract';
import { defineCommand, ensureWritableDir, UsageError } from './command';
import { choice, int, num, text } from './options';

function format(r: ExtractSummary): string {
  const skipped = Object.entries(r.skipped).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  return [
    `${r.images} images, ${r.faces} faces found, ${r.written} written (${r.processed} images processed now, ${r.imagesPerSecond.toFixed(2)} images/s)`,
    `skipped: ${skipped}`,
    r.identity ? `identity (${r.identity.mode}): ${r.identity.person} of ${r.identity.faces} faces are the person` : 'identity filter: off',
    r.interrupted ? 'interrupted: run the same command again to resume' : `alignments: ${r.alignments}`,
  ].join('\n');
}

export const extractCommand = defineCommand({
  summary: 'detect, align and crop faces from a folder of photos',
  options: {
    in: text('DIR', 'folder of photos', { required: true }),
    out: text('DIR', 'where the aligned faces and alignments.json go', { required: true }),
    size: int('PX', 'side of each aligned face', { min: 32, max: 2048, default: DEFAULT_EXTRACT.size }),
    margin: num('F', 'margin around the face, as a fraction of the crop', { min: 0, max: 0.45, default: DEFAULT_EXTRACT.margin }),
    detector: choice(['ssd', 'tiny'], 'face detector', DEFAULT_EXTRACT.detector),
    identity: text('off|dominant|FILE', 'keep one person: off, the dominant face, or the person in a reference photo (default off)'),
    'min-score': num('S', 'lowest detection score kept', { min: 0, max: 1, default: DEFAULT_EXTRACT.minScore }),
    'min-face': num('PX', 'smallest face side kept', { min: 0, max: 10000, default: DEFAULT_EXTRACT.minFace }),
    'min-sharpness': num('V', 'lowest Laplacian variance kept (blur filter)', { min: 0, max: 1e9, default: DEFAULT_EXTRACT.minSharpness }),
    'max-yaw': num('DEG', 'largest head turn kept', { min: 0, max: 90, default: DEFAULT_EXTRACT.maxYaw }),
  },
  async run(values) {
    const { in: inDir, out: outDir, detector } = values;
    if (!fs.existsSync(inDir) || !fs.statSync(inDir).isDirectory()) throw new UsageError(`--in ${inDir}: not a folder`);
    const identity = values.identity ?? 'off';
    if (identity !== 'off' && identity !== 'dominant' && !fs.existsSync(identity)) throw new UsageError(`--identity ${identity}: not off, dominant or an existing reference photo`);
    ensureWritableDir('extract', outDir);

    // Ctrl-C or SIGTERM: finish the current photo, save, and exit; a rerun resumes.
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const summary = await extractFaces(inDir, outDir, {
        size: values.size,
        margin: values.margin,
        detector,
        identity,
        minScore: values['min-score'],
        minFace: values['min-face'],
        minSharpness: values['min-sharpness'],
        maxYaw: values['max-yaw'],
        signal: controller.signal,
      });
      return { result: summary, text: format(summary), exitCode: summary.interrupted ? 1 : 0 };
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
});
