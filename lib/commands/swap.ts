// `deepfake-lab swap`: put the other identity's face into photos, with a provenance label.

import * as fs from 'fs';
import * as path from 'path';
import { BLENDERS } from '../swap/blend';
import { COLOUR_MATCHERS } from '../swap/colour';
import { DEFAULT_SWAP, swapPath, type SwapSummary } from '../swap/batch';
import { DEFAULT_SWAP_MASK } from '../swap/mask';
import { loadSwapModel, type SwapModel } from '../swap/model';
import { ensureWritableDir, intOption, numberOption, requireString, UsageError, type Command, type Values } from './command';

const USAGE =
  'deepfake-lab swap --model DIR --to a|b --in PATH --out DIR [--faces all|source] [--colour histogram|lab-meanstd|none] ' +
  '[--blend alpha|poisson] [--format png|jpeg] [--quality 92] [--mark] [--erode 6] [--feather 12] [--forehead 0.1] ' +
  '[--detector ssd|tiny] [--min-score 0.5] [--min-face 40] [--measure] [--overwrite] [--json]';

function choice<T extends string>(values: Values, name: string, allowed: readonly T[], fallback: T): T {
  const v = values[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !allowed.includes(v as T)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got ${String(v)}`);
  return v as T;
}

const fmt = (x: number | null) => (x === null ? '-' : x.toFixed(2));

function format(r: SwapSummary, model: SwapModel, to: string): string {
  const skipped = Object.entries(r.skipped).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  return [
    `${r.images} images, ${r.faces} faces found, ${r.swapped} swapped to "${to}" (model step ${model.source.step ?? '-'}, ${r.imagesPerSecond.toFixed(2)} images/s)`,
    `skipped: ${skipped}`,
    `${r.written.length} images written to ${r.out}, each labelled "${r.label}"`,
    ...(r.measured
      ? [
          `measured on ${r.measured.faces} swapped faces: identity transfer ${r.measured.decoded.identityTransfer.toFixed(2)} from the decoder, ` +
            `${r.measured.final.identityTransfer.toFixed(2)} in the written photos; verification ${fmt(r.measured.decoded.verification)} -> ${fmt(r.measured.final.verification)}; ` +
            `sharpness ratio ${fmt(r.measured.decoded.sharpness)} -> ${fmt(r.measured.final.sharpness)}; landmark error ${r.measured.decoded.landmarkError.toFixed(3)} -> ${r.measured.final.landmarkError.toFixed(3)}`,
        ]
      : []),
  ].join('\n');
}

export const swapCommand: Command = {
  summary: "put the other person's face into photos",
  usage: USAGE,
  options: {
    model: { type: 'string' },
    to: { type: 'string' },
    in: { type: 'string' },
    out: { type: 'string' },
    faces: { type: 'string' },
    colour: { type: 'string' },
    blend: { type: 'string' },
    format: { type: 'string' },
    quality: { type: 'string' },
    mark: { type: 'boolean', default: false },
    erode: { type: 'string' },
    feather: { type: 'string' },
    forehead: { type: 'string' },
    detector: { type: 'string' },
    'min-score': { type: 'string' },
    'min-face': { type: 'string' },
    measure: { type: 'boolean', default: false },
    overwrite: { type: 'boolean', default: false },
  },
  async run(values) {
    const modelDir = requireString(values, 'model', USAGE);
    const to = requireString(values, 'to', USAGE);
    const input = requireString(values, 'in', USAGE);
    const outDir = requireString(values, 'out', USAGE);
    if (!fs.existsSync(input)) throw new UsageError(`--in ${input}: no such file or folder`);
    if (fs.existsSync(outDir) && !fs.statSync(outDir).isDirectory()) throw new UsageError(`--out ${outDir}: not a folder`);
    const options = {
      to,
      faces: choice(values, 'faces', ['all', 'source'] as const, DEFAULT_SWAP.faces),
      colour: choice(values, 'colour', COLOUR_MATCHERS, DEFAULT_SWAP.colour),
      blend: choice(values, 'blend', BLENDERS, DEFAULT_SWAP.blend),
      format: choice(values, 'format', ['png', 'jpeg'] as const, DEFAULT_SWAP.format),
      quality: intOption(values, 'quality', DEFAULT_SWAP.quality, 1, 100),
      mark: values.mark === true,
      mask: {
        ...DEFAULT_SWAP_MASK,
        erode: numberOption(values, 'erode', DEFAULT_SWAP_MASK.erode, 0, 64),
        feather: numberOption(values, 'feather', DEFAULT_SWAP_MASK.feather, 0, 64),
        forehead: numberOption(values, 'forehead', DEFAULT_SWAP_MASK.forehead, 0, 1),
      },
      detector: choice(values, 'detector', ['ssd', 'tiny'] as const, DEFAULT_SWAP.detector),
      minScore: numberOption(values, 'min-score', DEFAULT_SWAP.minScore, 0, 1),
      minFace: numberOption(values, 'min-face', DEFAULT_SWAP.minFace, 0, 10000),
      measure: values.measure === true,
      overwrite: values.overwrite === true,
    };
    ensureWritableDir('swap', outDir);
    let model: SwapModel;
    try {
      model = await loadSwapModel(modelDir);
    } catch (e) {
      throw new UsageError(`--model ${modelDir}: ${(e as Error).message.split('\n')[0]}`);
    }
    try {
      if (!model.identities.includes(to)) throw new UsageError(`--to must be one of the model's identities (${model.identities.join(', ')}), got ${to}`);
      const summary = await swapPath(model, input, outDir, options);
      const { written, ...rest } = summary;
      return { result: { ...rest, written: written.length, files: written.map((f) => path.relative(summary.out, f)), model: model.source, to }, text: format(summary, model, to) };
    } finally {
      model.dispose();
    }
  },
};
