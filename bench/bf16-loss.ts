// bf16 against fp32 on real faces: the same `lite` run (seed, data, recipe settings) trained once
// in each precision, one after the other in this process, and their 50-step moving-average
// losses compared step by step. Issue 16's bar: within 2% over 500 steps on lfw-pair.
// --noise also trains fp32 with the next seed (another batch order) and reports its gap to the
// first fp32 run the same way: how far two fp32 runs drift apart on their own.
//
//   node --import tsx bench/bf16-loss.ts [--steps 500] [--faces DIR] [--noise]
//
// Faces: lfw-pair extracted once into data/cache/lfw (or --faces DIR with Colin_Powell/ and
// George_W_Bush/ folders of aligned faces). Prints one JSON object.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { initBackend } from '../lib/engine/backend';
import { extractFaces } from '../lib/faces/extract';
import { presetConfig } from '../lib/model/config';
import { bf16Unavailable, largestConvolution, type Precision } from '../lib/engine/native/precision';
import { PROJECT_ROOT } from '../lib/util/project';
import { DEFAULT_RECIPE, resolveRecipe } from '../lib/train/recipes';
import { runTraining } from '../lib/train/run';
import { TrainingSession } from '../lib/train/session';
import { median } from '../lib/util/stats';

const { values } = parseArgs({ options: { steps: { type: 'string' }, faces: { type: 'string' }, order: { type: 'string' }, noise: { type: 'boolean' } } });
const steps = Number(values.steps ?? 500);
const WINDOW = 50;
const people = ['Colin_Powell', 'George_W_Bush'];

async function faces(): Promise<string> {
  const dir = path.resolve(values.faces ?? path.join(PROJECT_ROOT, 'data', 'cache', 'lfw'));
  for (const p of people) {
    if (fs.existsSync(path.join(dir, p)) && fs.readdirSync(path.join(dir, p)).some((f) => f.endsWith('.png'))) continue;
    const src = path.resolve(PROJECT_ROOT, '..', 'shared', 'data', 'lfw-pair', p);
    if (!fs.existsSync(src)) throw new Error(`${src} is absent: pass --faces DIR`);
    process.stderr.write(`extracting ${p} into ${dir} (once)\n`);
    await extractFaces(src, path.join(dir, p), { identity: 'dominant' });
  }
  return dir;
}

function movingAverage(xs: number[]): number[] {
  return xs.map((_, i) => (i + 1 < WINDOW ? NaN : xs.slice(i + 1 - WINDOW, i + 1).reduce((a, b) => a + b, 0) / WINDOW));
}

async function run(precision: Precision, dir: string, seedOffset = 0) {
  const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), `deepfake-lab-bf16-${precision}-`));
  const resolved = resolveRecipe(DEFAULT_RECIPE).settings;
  const settings = { ...resolved, seed: resolved.seed + seedOffset };
  const session = await TrainingSession.open({
    modelDir, data: { a: path.join(dir, people[0]!), b: path.join(dir, people[1]!) }, config: presetConfig('lite'), settings, precision,
  });
  const loss: Record<'a' | 'b', number[]> = { a: [], b: [] };
  const fps: number[] = [];
  try {
    session.beginCycle({ untilStep: steps });
    await runTraining(session, {
      steps, save: false, stream: null,
      onStep: (e) => {
        loss.a.push(e.loss.a!), loss.b.push(e.loss.b!);
        fps.push(e.facesPerSecond);
        if (e.step % 100 === 0) process.stderr.write(`${precision} step ${e.step}: a ${e.loss.a!.toFixed(4)} b ${e.loss.b!.toFixed(4)}\n`);
      },
    });
    return { loss, facesPerSecond: median(fps), conv: largestConvolution() };
  } finally {
    session.dispose();
    fs.rmSync(modelDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  await initBackend({ force: 'native' });
  const why = bf16Unavailable();
  if (why) throw new Error(why);
  const dir = await faces();
  // --order bf16 runs bf16 first (to check that the order does not matter).
  let fp, bf;
  if (values.order === 'bf16') (bf = await run('bf16', dir)), (fp = await run('fp32', dir));
  else (fp = await run('fp32', dir)), (bf = await run('bf16', dir));
  const other = values.noise ? await run('fp32', dir, 1) : null;
  const report: Record<string, unknown> = { steps, window: WINDOW };
  // Relative gaps of a run's moving average to the first fp32 run's: the largest, and the mean
  // signed one (below 0: lower loss than fp32).
  const gaps = (f: number[], g: number[]) => f.map((v, i) => (g[i]! - v) / v).filter((x) => Number.isFinite(x));
  const round = (x: number) => Number(x.toFixed(4));
  for (const id of ['a', 'b'] as const) {
    const f = movingAverage(fp.loss[id]), b = movingAverage(bf.loss[id]);
    const gb = gaps(f, b);
    report[id] = {
      maxRelativeGap: round(Math.max(...gb.map(Math.abs))),
      meanSignedGap: round(gb.reduce((s, x) => s + x, 0) / gb.length),
      finalFp32: Number(f[f.length - 1]!.toFixed(5)),
      finalBf16: Number(b[b.length - 1]!.toFixed(5)),
      ...(other ? { fp32NextSeedMaxGap: round(Math.max(...gaps(f, movingAverage(other.loss[id])).map(Math.abs))) } : {}),
    };
  }
  report.facesPerSecond = { fp32: Number(fp.facesPerSecond.toFixed(1)), bf16: Number(bf.facesPerSecond.toFixed(1)) };
  report.convImplementation = { fp32: fp.conv?.forward, bf16: bf.conv?.forward };
  console.log(JSON.stringify(report));
}

main().catch((e) => {
  console.error(`bf16-loss: ${(e as Error).message}`);
  process.exitCode = 1;
});
