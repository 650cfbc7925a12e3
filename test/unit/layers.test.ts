// The layers of lib/ (.dependency-cruiser.cjs): every file is placed in one, imports run only
// downwards, and nothing imports itself round a loop. dependency-cruiser reads the imports; the
// planted test proves the rules catch what they name, on a throwaway tree.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PROJECT_ROOT } from '../../lib/util/project';

const CONFIG = path.join(PROJECT_ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'depcruise');

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
  cycle?: Array<{ name: string }>;
}

/** Cruise `dir` (relative to `cwd`) with the project's rules; the violations, one line each. */
function violations(cwd: string, dir = 'lib'): string[] {
  const r = spawnSync(DEPCRUISE, [dir, '--config', CONFIG, '--output-type', 'json'], { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.ok(r.stdout, `depcruise printed nothing: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { summary: { violations: Violation[] } };
  return out.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}${v.cycle ? ` (loop: ${v.cycle.map((c) => c.name).join(' -> ')})` : ''}`);
}

function libFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? libFiles(p) : /\.(ts|json)$/.test(e.name) ? [path.relative(PROJECT_ROOT, p)] : [];
  });
}

test('lib/ imports only from its own layer and the ones below, with no loops', () => {
  assert.deepEqual(violations(PROJECT_ROOT), []);
});

test('every file of lib/ is placed in a layer', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { LAYERS } = require(CONFIG) as { LAYERS: Array<[string, string, string[]]> };
  const paths = LAYERS.flatMap(([, , p]) => p);
  const unplaced = libFiles(path.join(PROJECT_ROOT, 'lib')).filter((f) => !paths.some((p) => (p.endsWith('/') ? f.startsWith(p) : f === p)));
  assert.deepEqual(unplaced, [], 'place these in .dependency-cruiser.cjs');
});

test('the rules catch a planted import from a lower layer to a higher one, a loop, and training imported by swap', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deepfake-lab-layers-'));
  try {
    const write = (file: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    };
    fs.copyFileSync(path.join(PROJECT_ROOT, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
    write('lib/viz/chart.ts', 'export const chart = 1;\n');
    write('lib/util/stats.ts', "import { chart } from '../viz/chart';\nexport const stats = chart;\n");
    write('lib/model/a.ts', "import { b } from './b';\nexport const a = () => b;\n");
    write('lib/model/b.ts', "import { a } from './a';\nexport const b = () => a;\n");
    write('lib/train/step.ts', 'export const step = 1;\n');
    write('lib/swap/face.ts', "import { step } from '../train/step';\nexport const face = step;\n");
    const found = violations(dir);
    assert.ok(found.some((v) => /^util-imports-a-higher-layer: lib\/util\/stats\.ts -> lib\/viz\/chart\.ts/.test(v)), found.join('\n'));
    assert.ok(found.some((v) => /^no-circular: lib\/model\/(a|b)\.ts/.test(v)), found.join('\n'));
    assert.ok(found.some((v) => /^apart-1: lib\/swap\/face\.ts -> lib\/train\/step\.ts/.test(v)), found.join('\n'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
