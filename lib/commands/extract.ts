import * as fs from 'fs';
import { DEFAULT_EXTRACT, extractFaces, type ExtractSummary } from '../faces/extract';
import { ensureWritableDir, UsageError, intOption, numberOption, requireString, type Command } from './command';

const USAGE =
  'deepfake-lab extract --in DIR --out DIR [--size 256] [--margin 0.2] [--detector ssd|tiny] [--identity off|dominant|FILE] ' +
  '[--min-score 0.5] [--min-face 40] [--min-sharpness 15] [--max-yaw 60] [--json]';

function format(r: ExtractSummary): string {
  const skipped = Object.entries(r.skipped).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  return [
    `${r.images} images, ${r.faces} faces found, ${r.written} written (${r.processed} images processed now, ${r.imagesPerSecond.toFixed(2)} images/s)`,
    `skipped: ${skipped}`,
    r.identity ? `identity (${r.identity.mode}): ${r.identity.person} of ${r.identity.faces} faces are the person` : 'identity filter: off',
    r.interrupted ? 'interrupted: run the same command again to resume' : `alignments: ${r.alignments}`,
  ].join('\n');
}

export const extractCommand: Command = {
  summary: 'detect, align and crop faces from a folder of photos',
  usage: USAGE,
  options: {
    in: { type: 'string' },
    out: { type: 'string' },
    size: { type: 'string' },
    margin: { type: 'string' },
    detector: { type: 'string' },
    identity: { type: 'string' },
    'min-score': { type: 'string' },
    'min-face': { type: 'string' },
    'min-sharpness': { type: 'string' },
    'max-yaw': { type: 'string' },
  },
  async run(values) {
    const inDir = requireString(values, 'in', USAGE);
    const outDir = requireString(values, 'out', USAGE);
    if (!fs.existsSync(inDir) || !fs.statSync(inDir).isDirectory()) throw new UsageError(`--in ${inDir}: not a folder`);
    const detector = (values.detector as string | undefined) ?? DEFAULT_EXTRACT.detector;
    if (detector !== 'ssd' && detector !== 'tiny') throw new UsageError(`--detector must be ssd or tiny, got ${detector}`);
    const identity = (values.identity as string | undefined) ?? 'off';
    if (identity !== 'off' && identity !== 'dominant' && !fs.existsSync(identity)) throw new UsageError(`--identity ${identity}: not off, dominant or an existing reference photo`);
    ensureWritableDir('extract', outDir);

    // Ctrl-C or SIGTERM: finish the current photo, save, and exit; a rerun resumes.
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const summary = await extractFaces(inDir, outDir, {
        size: intOption(values, 'size', DEFAULT_EXTRACT.size, 32, 2048),
        margin: numberOption(values, 'margin', DEFAULT_EXTRACT.margin, 0, 0.45),
        detector,
        identity,
        minScore: numberOption(values, 'min-score', DEFAULT_EXTRACT.minScore, 0, 1),
        minFace: numberOption(values, 'min-face', DEFAULT_EXTRACT.minFace, 0, 10000),
        minSharpness: numberOption(values, 'min-sharpness', DEFAULT_EXTRACT.minSharpness, 0, 1e9),
        maxYaw: numberOption(values, 'max-yaw', DEFAULT_EXTRACT.maxYaw, 0, 90),
        signal: controller.signal,
      });
      return { result: summary, text: format(summary), exitCode: summary.interrupted ? 1 : 0 };
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
};
