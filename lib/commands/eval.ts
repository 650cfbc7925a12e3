// `deepfake-lab eval`: reconstruction PSNR/SSIM on held-out faces, a swap preview, swap metrics.

import { initBackend } from '../backend';
import { faceApiSwapMetrics } from '../faces/swap-metrics';
import { evaluateModel } from '../train/evaluate';
import { intOption, requireString, UsageError, type Command } from './command';

const USAGE = 'deepfake-lab eval --model DIR --a DIR --b DIR [--max-faces N] [--preview FILE] [--json]';

export const evalCommand: Command = {
  summary: 'measure reconstruction and swap quality',
  usage: USAGE,
  options: {
    model: { type: 'string' },
    a: { type: 'string' },
    b: { type: 'string' },
    'max-faces': { type: 'string' },
    preview: { type: 'string' },
  },
  async run(values) {
    const modelDir = requireString(values, 'model', USAGE);
    const a = requireString(values, 'a', USAGE);
    const b = requireString(values, 'b', USAGE);
    const maxFaces = intOption(values, 'max-faces', 1000, 1);
    const choice = await initBackend();
    let report;
    try {
      report = await evaluateModel({
        modelDir,
        data: { a, b },
        maxFaces,
        swapMetrics: faceApiSwapMetrics,
        previewFile: typeof values.preview === 'string' ? values.preview : undefined,
      });
    } catch (e) {
      const msg = (e as Error).message.split('\n')[0];
      // A folder or model that is not there is unusable input, not a failure of eval.
      if (/no checkpoint|ENOENT|not a folder|ENOTDIR/.test(msg)) throw new UsageError(msg);
      throw e;
    }
    const r = report.reconstruction;
    const fmt = (x: number | null, d: number) => (x === null ? '-' : x.toFixed(d));
    const text = [
      `model at step ${report.step} (${report.checkpoint}), backend ${choice.backend}`,
      `reconstruction a: PSNR ${fmt(r.a.psnr, 2)} dB, SSIM ${fmt(r.a.ssim, 3)} on ${r.a.faces} ${r.a.source} faces`,
      `reconstruction b: PSNR ${fmt(r.b.psnr, 2)} dB, SSIM ${fmt(r.b.ssim, 3)} on ${r.b.faces} ${r.b.source} faces`,
      `identity transfer a->b ${fmt(report.swap.identityTransfer.a2b, 2)}, b->a ${fmt(report.swap.identityTransfer.b2a, 2)}`,
      `landmark error a->b ${fmt(report.swap.landmarkError.a2b, 3)}, b->a ${fmt(report.swap.landmarkError.b2a, 3)} (of the inter-ocular distance)`,
      `swap preview ${report.swap.preview ?? '-'}`,
    ].join('\n');
    return { result: { ...report, backend: choice.backend }, text };
  },
};
