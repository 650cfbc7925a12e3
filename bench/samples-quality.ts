// The built-in identities against issue 8's bar: face-api detects the face in >= 95% of renders
// per person, its landmarks lie within 5% of the eye distance of the rig's on average, and the
// rig renders >= 20 photos/s. Also writes a grid of 32 renders per person to look at.
//
//   node --import tsx bench/samples-quality.ts [--count 300] [--grid-dir /tmp] [--seed 1]
//
// Renders use the parameters `samples --seed S` draws for its photos, so the numbers describe the
// folders users train on.

import * as os from 'os';
import * as path from 'path';
import { writeFileSync } from 'fs';
import { parseArgs } from 'util';
import { createCanvas, loadImage } from 'canvas';
import { initBackend } from '../lib/engine/backend';
import { checkDetection } from '../lib/samples/detection-check';
import { sample } from '../lib/samples/params';
import { loadPerson, OUTPUT, render, type Render } from '../lib/samples/rig';

const { values } = parseArgs({ options: { count: { type: 'string' }, 'grid-dir': { type: 'string' }, seed: { type: 'string' } } });
const count = Number(values.count ?? 300);
const gridDir = values['grid-dir'] ?? os.tmpdir();
const seed = Number(values.seed ?? 1);

async function grid(renders: Render[], file: string): Promise<void> {
  const cols = 8, w = OUTPUT.width / 2, h = OUTPUT.height / 2;
  const canvas = createCanvas(cols * w, Math.ceil(renders.length / cols) * h);
  const ctx = canvas.getContext('2d');
  for (const [i, r] of renders.entries()) ctx.drawImage(await loadImage(r.bytes), (i % cols) * w, Math.floor(i / cols) * h, w, h);
  writeFileSync(file, canvas.toBuffer('image/png'));
}

async function main(): Promise<void> {
  await initBackend();
  const report: Record<string, unknown> = { count, seed, cpus: os.cpus().length, loadAverage: os.loadavg()[0] };
  for (const id of ['a', 'b'] as const) {
    const person = await loadPerson(id);
    await render(person, sample('warm-up'));
    const renders: Render[] = [];
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < count; i++) renders.push(await render(person, sample(`${seed}:${id}:${i}`)));
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const gridFile = path.join(gridDir, `deepfake-lab-samples-grid-${id}.png`);
    await grid(renders.slice(0, 32), gridFile);
    const check = await checkDetection(renders);
    report[id] = {
      rendersPerSecond: Math.round((count / wall) * 10) / 10,
      cpuMsPerRender: Math.round(((cpu.user + cpu.system) / 1000 / count) * 10) / 10,
      detectionRate: check.rate,
      meanLandmarkError: check.meanLandmarkError,
      missed: check.errors.flatMap((e, i) => (e === null ? [i] : [])),
      grid: gridFile,
    };
    process.stderr.write(`${id}: ${JSON.stringify(report[id])}\n`);
  }
  report.loadAverageAfter = os.loadavg()[0];
  console.log(JSON.stringify(report));
}

void main();
