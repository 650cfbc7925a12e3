// Video swap speed: frames per second on the built-in clip (512x640) and on a 1280x720 clip made
// from it (the same frames scaled and padded), whole swaps and the face-finding pass alone.
//
//   node --import tsx bench/video-speed.ts [--model models/builtin] [--runs 2] [--sharpen 1]
//
// --sharpen 0,1 times the whole swap at each sharpening amount, the amounts alternated within
// each run so that a noisy machine slows them alike.
// Prints a table on stderr and one JSON line on stdout. Run it alone: it uses every core.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { initBackend } from '../lib/engine/backend';
import { createDetector } from '../lib/faces/extract';
import { PROJECT_ROOT } from '../lib/util/project';
import { writeSampleClip } from '../lib/samples/clip';
import { loadSwapModel } from '../lib/swap/model';
import { DEFAULT_SHARPEN } from '../lib/swap/sharpen';
import { analyseFrames } from '../lib/video/analyse';
import { probeVideo } from '../lib/util/ffmpeg';
import { swapVideo } from '../lib/video/swap-video';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { model: { type: 'string', default: 'models/builtin' }, runs: { type: 'string', default: '2' }, sharpen: { type: 'string', default: String(DEFAULT_SHARPEN.amount) } } });
  const runs = Number(values.runs);
  const amounts = values.sharpen!.split(',').map(Number);
  if (amounts.some((a) => !Number.isFinite(a) || a < 0)) throw new Error(`--sharpen takes amounts >= 0, comma-separated (got ${values.sharpen})`);
  const backend = (await initBackend()).backend;
  const dir = path.join(PROJECT_ROOT, 'output', 'bench-video');
  const clip = await writeSampleClip(path.join(dir, 'clip'), { progressStream: null });
  const hd = path.join(dir, 'clip-1280x720.mp4');
  if (!fs.existsSync(hd)) {
    const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-i', clip.a, '-vf', 'scale=-2:720,pad=1280:720:(ow-iw)/2:0', '-c:v', 'libx264', '-crf', '12', '-c:a', 'copy', hd], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
  }
  const model = await loadSwapModel(values.model!);
  const detector = await createDetector('ssd', 0.5);
  const rows = [];
  for (const [name, file] of [['built-in 512x640', clip.a], ['1280x720', hd]] as const) {
    const info = await probeVideo(file);
    const swaps: number[][] = amounts.map(() => []), find: number[] = [];
    for (let k = 0; k < runs; k++) {
      const t = Date.now();
      await analyseFrames(info, detector, { progressStream: null });
      find.push(info.frames! / ((Date.now() - t) / 1000));
      for (const [i, amount] of amounts.entries()) {
        const r = await swapVideo(model, file, path.join(dir, 'out'), { to: 'b', detector, overwrite: true, progressStream: null, sharpen: { ...DEFAULT_SHARPEN, amount } });
        swaps[i]!.push(r.framesPerSecond);
      }
    }
    const bySharpen = amounts.map((amount, i) => ({ amount, swapFramesPerSecond: median(swaps[i]!), runs: swaps[i]! }));
    rows.push({ clip: name, frames: info.frames, swapFramesPerSecond: bySharpen[0]!.swapFramesPerSecond, findFramesPerSecond: median(find), sharpen: bySharpen, runs: { swap: swaps[0]!, find } });
    const swapText = bySharpen.map((b) => `${b.swapFramesPerSecond.toFixed(2)}${amounts.length > 1 ? ` (sharpen ${b.amount})` : ''}`).join(', ');
    process.stderr.write(`${name}: ${info.frames} frames; whole swap ${swapText} frames/s, finding faces alone ${median(find).toFixed(2)} frames/s (median of ${runs})\n`);
  }
  model.dispose();
  const peakRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  process.stderr.write(`peak memory ${peakRssMB} MB\n`);
  process.stdout.write(JSON.stringify({ backend, video: rows, peakRssMB }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`video-speed: ${(e as Error).message}\n`);
  process.exit(1);
});
