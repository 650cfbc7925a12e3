// `deepfake-lab samples`: render the built-in identities (lib/samples/) into photo folders.

import { DEFAULT_SAMPLES, writeSamples, type SamplesSummary } from '../samples/dataset';
import { IDENTITIES } from '../samples/identities';
import { DEFAULT_CLIP, writeSampleClip, type ClipSummary } from '../samples/clip';
import { ffmpegMissing } from '../util/ffmpeg';
import * as path from 'path';
import { defineCommand, ensureWritableDir, UsageError } from './command';
import { flag, int, num, text } from './options';

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

export const samplesCommand = defineCommand({
  summary: 'render the built-in identities (two real faces under a face rig) with ground truth',
  options: {
    out: text('DIR', 'where the photo folders go', { required: true }),
    count: int('N', 'photos per identity', { min: 0, max: 100000, default: DEFAULT_SAMPLES.count }),
    pairs: int('N', 'ground-truth pairs (the same pose and light as both people)', { min: 0, max: 100000, default: DEFAULT_SAMPLES.pairs }),
    seed: int('S', 'random seed', { min: 0, max: 2 ** 31 - 1, default: DEFAULT_SAMPLES.seed }),
    video: flag('also render a clip of A and its ground truth (needs ffmpeg)'),
    seconds: num('S', 'with --video: the clip length in seconds', { min: 0.2, max: 60, default: DEFAULT_CLIP.seconds }),
    fps: int('N', 'with --video: frames per second', { min: 5, max: 60, default: DEFAULT_CLIP.fps }),
  },
  async run(values) {
    const { out: outDir, count, seconds, fps, pairs, seed } = values;
    if (values.video) {
      const missing = ffmpegMissing();
      if (missing) throw new UsageError(missing);
    }
    ensureWritableDir('samples', outDir);
    // Ctrl-C or SIGTERM: stop after the current photo; the manifests list what is finished.
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const summary = await writeSamples(outDir, { count, pairs, seed, signal: controller.signal });
      const video = values.video && !summary.interrupted ? await writeSampleClip(path.join(outDir, 'video'), { seconds, fps }) : null;
      const text = [format(summary), ...(video ? [formatClip(video)] : [])].join('\n');
      return { result: { ...summary, ...(video ? { video } : {}) }, text, exitCode: summary.interrupted ? 1 : 0 };
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
});
