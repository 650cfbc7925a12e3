// `deepfake-lab samples`: render the built-in identities (lib/samples/) into photo folders.

import { DEFAULT_SAMPLES, writeSamples, type SamplesSummary } from '../samples/dataset';
import { IDENTITIES } from '../samples/identities';
import { ensureWritableDir, intOption, requireString, type Command } from './command';

const USAGE = 'deepfake-lab samples --out DIR [--count 300] [--pairs 64] [--seed 1] [--json]';

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
  },
  async run(values) {
    const outDir = requireString(values, 'out', USAGE);
    const count = intOption(values, 'count', DEFAULT_SAMPLES.count, 1, 100000);
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
      return { result: summary, text: format(summary), exitCode: summary.interrupted ? 1 : 0 };
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
};
