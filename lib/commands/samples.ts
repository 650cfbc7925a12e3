// `deepfake-lab samples`: render the built-in identities (lib/samples/) into photo folders.

import { DEFAULT_SAMPLES, writeSamples, type SamplesSummary } from '../samples/dataset';
import { IDENTITIES } from '../samples/identities';
import { DEFAULT_CLIP, writeSampleClip, type ClipSummary } from '../samples/clip';
import { ffmpegMissing } from '../util/ffmpeg';
import * as path from 'path';
import { ensureWritableDir, intOption, numberOption, requireString, UsageError, type Command } from './command';

const USAGE = 'deepfake-lab samples --out DIR [--count 300] [--pairs 64] [--seed 1] [--video [--seconds 4] [--fps 25]] [--json]';

function formatClip(c: ClipSummary): string {
  return `video: ${c.frames} frames at ${c.fps} fps, A in ${c.a}, the ground truth (B, same motion) in ${c.truth}` +
    `${c.rendered ? ` (rendered in ${c.seconds.toFixed(1)} s)` : ' (already there)'}; next: deepfake-lab swap --in ${c.a} --measure --truth ${c.truth}`;
}

function format(r: SamplesSummary): string {
  const who = (id: 'a' | 'b') => `${id}: ${r.identities[id].images} photos in ${r.identities[id].dir} (${IDENTITIES[id].photo}, face ${IDENTITIES[id].faceFromLeft} from the left)`;
  return [
    who('a'),
    who('b'),
    `ground truth: ${r.truth.pairs} pairs in ${r.truth.dir} (eval --truth ${r.truth.dir})`,
    `${r.rendered} rendered (${r.rendersPerSecond.toFixed(1)} photos/s), ${r.skipped} already there`,
    r.interrupted ? 'interrupted: run the same command again to finish' : `next: deepfake-lab extract --in ${r.identities.a.dir} --out <faces folder>`,
  ].join('\n');
}

export const samplesCommand: Command = {
  summary: 'render the built-in identities (two real faces under a face rig) with ground truth',
  usage: USAGE,
  options: {
    out: { type: 'string' },
    count: { type: 'string' },
    pairs: { type: 'string' },
    seed: { type: 'string' },
    video: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    fps: { type: 'string' },
  },
  async run(values) {
    const outDir = requireString(values, 'out', USAGE);
    const count = intOption(values, 'count', DEFAULT_SAMPLES.count, 0, 100000);
    const seconds = numberOption(values, 'seconds', DEFAULT_CLIP.seconds, 0.2, 60);
    const fps = intOption(values, 'fps', DEFAULT_CLIP.fps, 5, 60);
    if (values.video === true) {
      const missing = ffmpegMissing();
      if (missing) throw new UsageError(missing);
    }
    const pairs = intOption(values, 'pairs', DEFAULT_SAMPLES.pairs, 0, 100000);
    const seed = intOption(values, 'seed', DEFAULT_SAMPLES.seed, 0, 2 ** 31 - 1);
    ensureWritableDir('samples', outDir);
    // Ctrl-C or SIGTERM: stop after the current photo; the manifests list what is finished.
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const summary = await writeSamples(outDir, { count, pairs, seed, signal: controller.signal });
      const video = values.video === true && !summary.interrupted ? await writeSampleClip(path.join(outDir, 'video'), { seconds, fps }) : null;
      const text = [format(summary), ...(video ? [formatClip(video)] : [])].join('\n');
      return { result: { ...summary, ...(video ? { video } : {}) }, text, exitCode: summary.interrupted ? 1 : 0 };
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
};
