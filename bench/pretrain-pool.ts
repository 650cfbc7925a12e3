// Does pretraining on other people pay within a CPU budget? (issue 14: "pretraining on faces the
// project ships"). The 20 other faces of face-api's demo photos (the built-in people are 2 of 22)
// are rendered through the same rig, extracted, and the shared encoder is pretrained with one
// decoder per person: with a decoder each, the code need not say who it sees, which is what a swap
// wants. Then A/B training starts from it (encoder copied, each decoder taken from the pool person
// whose decoder reconstructs that person's faces best) and, for comparison, from scratch, for the
// same minutes of the default recipe; both are scored by `eval --truth`.
//
//   node --import tsx bench/pretrain-pool.ts [--pretrain-minutes 12] [--minutes 5] [--count 60] [--out data/cache/pretrain-pool]
//
// Needs the quality benchmark's built-in faces (`deepfake-lab bench --quality` renders them into
// data/cache/quality/builtin-s1-n300-p64 once), or `--faces DIR` holding a/faces, b/faces and truth.
// Measured 2026-12-02 on 2 cores (docs/recipes.md, "Tried and not adopted"): it does not pay at these budgets.

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/engine/backend';
import { createDetector, extractFaces } from '../lib/faces/extract';
import { writeFileAtomic } from '../lib/util/fsutil';
import { decodeImage } from '../lib/util/image';
import { disposeAutoencoder } from '../lib/model/builder';
import { loadAutoencoder } from '../lib/model/store';
import { PROJECT_ROOT } from '../lib/util/project';
import { IDENTITIES, type Identity } from '../lib/samples/identities';
import { sample } from '../lib/samples/params';
import { personOf, render } from '../lib/samples/rig';
import { latestCheckpoint } from '../lib/train/checkpoint';
import { facesToTensor } from '../lib/data/face-set';
import { DEFAULT_RECIPE, resolveRecipe } from '../lib/train/recipes';
import { runTraining } from '../lib/train/run';
import { TrainingSession } from '../lib/train/session';

const { values } = parseArgs({
  options: {
    'pretrain-minutes': { type: 'string' }, minutes: { type: 'string' }, count: { type: 'string' },
    out: { type: 'string' }, faces: { type: 'string' },
  },
});
const pretrainSeconds = 60 * Number(values['pretrain-minutes'] ?? 12);
const seconds = 60 * Number(values.minutes ?? 5);
const count = Number(values.count ?? 60);
const out = path.resolve(values.out ?? path.join(PROJECT_ROOT, 'data/cache/pretrain-pool'));
const builtin = path.resolve(values.faces ?? path.join(PROJECT_ROOT, 'data/cache/quality/builtin-s1-n300-p64'));
const DEMO = 'node_modules/@vladmandic/face-api/demo';
const log = (line: string) => process.stderr.write(`pretrain-pool: ${line}\n`);

/** Every face face-api finds in the demo photos, except the two built-in people, rendered `count` times each. */
async function renderPool(): Promise<string[]> {
  const detector = await createDetector('ssd', 0.5);
  const people: string[] = [];
  for (let i = 1; i <= 6; i++) {
    const file = `${DEMO}/sample${i}.jpg`;
    const photo = await decodeImage(path.join(PROJECT_ROOT, file));
    const faces = (await detector.detect(photo)).sort((p, q) => p.box.x - q.box.x);
    for (const [j, f] of faces.entries()) {
      const builtinHere = Object.values(IDENTITIES).some((b) => b.photo === file && Math.hypot(b.landmarks[30][0] - f.landmarks[30][0], b.landmarks[30][1] - f.landmarks[30][1]) < 20);
      if (builtinHere) continue;
      const name = `s${i}f${j + 1}`;
      const raw = path.join(out, 'raw', name), faceDir = path.join(out, 'people', name);
      // An identity record for the rig; `id` is only a label here.
      const identity: Identity = { id: 'a', photo: file, faceFromLeft: j + 1, facesInPhoto: faces.length, landmarks: f.landmarks, frameOffset: [0, 0.85], description: name };
      const person = personOf(identity, photo);
      fs.mkdirSync(raw, { recursive: true });
      for (let n = 0; n < count; n++) {
        const target = path.join(raw, `${name}-${String(n).padStart(4, '0')}.jpg`);
        // Always JPEG (the rig draws PNG at quality 100), so every render is the .jpg it is named.
        if (!fs.existsSync(target)) await writeFileAtomic(target, (await render(person, { ...sample(`pool:${name}:${n}`), jpegQuality: 92 })).bytes);
      }
      const summary = await extractFaces(raw, faceDir, { identity: 'dominant', progressStream: null });
      // Turned faces the extractor refuses leave a person too few crops to train a decoder on.
      if (summary.written >= count / 2) people.push(name);
      log(`${name}: ${summary.written} faces${summary.written >= count / 2 ? '' : ' (too few: left out)'}`);
    }
  }
  return people;
}

async function trainFor(session: TrainingSession, budget: number): Promise<string> {
  session.beginCycle({ seconds: budget });
  await runTraining(session, {
    seconds: budget, save: false, stream: null,
    onStep: (e) => e.step % 100 === 0 && log(`${path.basename(session.modelDir)}: step ${e.step}, ${session.cycle!.elapsedSeconds.toFixed(0)}/${budget} s`),
  });
  const ckpt = await session.saveCheckpoint();
  session.dispose();
  return ckpt;
}

/** The pool decoder that reconstructs these faces best (mean absolute error). */
function nearestDecoder(pre: Awaited<ReturnType<typeof loadAutoencoder>>, faces: Uint8Array[]): string {
  const x = facesToTensor(faces.slice(0, 32), pre.config.inputSize);
  const errors = Object.entries(pre.decoders).map(([name, dec]) => [name, tf.tidy(() => tf.mean(tf.abs(tf.sub(dec.predict(pre.encoder.predict(x) as tf.Tensor) as tf.Tensor, x))).dataSync()[0])] as const);
  x.dispose();
  return errors.sort((p, q) => p[1] - q[1])[0][0];
}

async function main(): Promise<void> {
  await initBackend();
  if (!fs.existsSync(path.join(builtin, 'truth'))) throw new Error(`${builtin} has no built-in faces: run \`deepfake-lab bench --quality\` once (or pass --faces)`);
  const people = await renderPool();
  const recipe = resolveRecipe(DEFAULT_RECIPE);
  const data = { a: path.join(builtin, 'a', 'faces'), b: path.join(builtin, 'b', 'faces') };

  const preDir = path.join(out, 'pretrained');
  if (!latestCheckpoint(preDir)) {
    const pool = await TrainingSession.open({ modelDir: preDir, data: Object.fromEntries(people.map((p) => [p, path.join(out, 'people', p)])), config: { ...recipe.config, identities: people }, settings: recipe.settings, log });
    await trainFor(pool, pretrainSeconds);
  }
  const pre = await loadAutoencoder(latestCheckpoint(preDir)!);

  const runs: Record<string, string> = {};
  for (const start of ['scratch', 'pretrained'] as const) {
    const dir = path.join(out, `ab-${start}`);
    fs.rmSync(dir, { recursive: true, force: true });
    const s = await TrainingSession.open({ modelDir: dir, data, config: recipe.config, settings: recipe.settings, log });
    if (start === 'pretrained') {
      s.ae.encoder.setWeights(pre.encoder.getWeights());
      for (const id of ['a', 'b']) {
        const from = nearestDecoder(pre, s.faces[id].train.pixels);
        s.ae.decoders[id].setWeights(pre.decoders[from].getWeights());
        log(`${id}: decoder from ${from}`);
      }
    }
    await trainFor(s, seconds);
    runs[start] = dir;
  }
  disposeAutoencoder(pre);
  const args = ['bin/deepfake-lab.js', 'eval', ...Object.values(runs).flatMap((m) => ['--model', m]), '--a', data.a, '--b', data.b, '--truth', path.join(builtin, 'truth'), '--json'];
  const r = spawnSync(process.execPath, args, { cwd: PROJECT_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  process.stdout.write(r.stdout);
}

void main();
