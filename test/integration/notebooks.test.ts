// Notebooks run through a real Jupyter client on the project kernel, and a failing cell fails the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';
import sharp from 'sharp';
import { executeNotebook, NotebookFailed } from '../../lib/util/notebook-runner';
import { PROJECT_ROOT } from '../helpers/shared';
import { JUPYTER_DIR } from '../../lib/util/project';
import { expectedBackend, nativeSkip, needs } from '../helpers/strict';
import { SWIFTSHADER_ICD, vulkanDrivers } from '../../lib/engine/webgpu';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deepfake-lab-nb-'));

function writeNotebook(name: string, cells: string[]): string {
  const file = path.join(tmp, name);
  const nb = {
    cells: cells.map((source, i) => ({ cell_type: 'code', id: `c${i}`, metadata: {}, source, outputs: [], execution_count: null })),
    metadata: { kernelspec: { name: 'deepfake-lab', display_name: 'TypeScript (Deepfake Lab)', language: 'typescript' } },
    nbformat: 4,
    nbformat_minor: 5,
  };
  fs.writeFileSync(file, JSON.stringify(nb));
  return file;
}

interface Output { output_type: string; name?: string; text?: string | string[]; data?: Record<string, unknown> }
function outputs(file: string): Output[] {
  const nb = JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: Array<{ outputs?: Output[] }> };
  return nb.cells.flatMap((c) => c.outputs ?? []);
}
const text = (o: Output) => (Array.isArray(o.text) ? o.text.join('') : (o.text ?? ''));

test('00-environment runs top to bottom and shows the backend and a picture', { timeout: 300_000 }, async () => {
  const out = path.join(tmp, '00-environment.ipynb');
  const html = path.join(tmp, '00-environment.html');
  const run = await executeNotebook(path.join(PROJECT_ROOT, 'notebooks', '00-environment.ipynb'), { out, html });
  assert.equal(run.ok, true);
  const outs = outputs(out);
  assert.ok(outs.some((o) => o.data && 'image/png' in o.data), 'a PNG is displayed');
  assert.ok(outs.some((o) => o.data && String(o.data['text/html'] ?? '').includes('Conv2DBackpropFilter') === false && String(o.data['text/html'] ?? '').includes('<table>')), 'the doctor tables are displayed');
  const expected = expectedBackend();
  assert.ok(outs.some((o) => text(o).trim() === expected), `the chosen backend is ${expected}`);
  assert.ok(!outs.some((o) => o.name === 'stderr'), 'nothing on stderr');
  assert.ok(fs.readFileSync(html, 'utf8').includes('data:image/png;base64'), 'the HTML page embeds the picture');
});

// The chapters on webgpu take minutes on SwiftShader (01-05: 6.4 minutes here; run the notebook
// tests with DEEPFAKE_BACKEND=webgpu); chapter 00 checks in seconds that the kernel reaches Dawn
// (tslab's require trap) and that the chapter reads tensors asynchronously, as WebGPU requires.
const webgpuSkip = needs('a Vulkan driver for WebGPU (chromium\'s SwiftShader, or a GPU\'s)',
  vulkanDrivers().length || fs.existsSync(SWIFTSHADER_ICD) ? false : `no Vulkan driver and no ${SWIFTSHADER_ICD} (npm run setup installs chromium)`);
test('00-environment runs on the webgpu backend too', { skip: nativeSkip() || webgpuSkip, timeout: 300_000 }, async () => {
  const out = path.join(tmp, '00-environment-webgpu.ipynb');
  // A smaller photo: SwiftShader took 156 s for the edge filter over the 1920x1280 one (a GPU: milliseconds).
  const photo = path.join(tmp, 'small.jpg');
  await sharp(require.resolve('@vladmandic/face-api/demo/sample1.jpg')).resize({ width: 480 }).jpeg().toFile(photo);
  await executeNotebook(path.join(PROJECT_ROOT, 'notebooks', '00-environment.ipynb'), { out, env: { DEEPFAKE_BACKEND: 'webgpu', DEEPFAKE_ENV_PHOTO: photo } });
  const outs = outputs(out);
  assert.ok(outs.some((o) => text(o).trim() === 'webgpu'), 'the chosen backend is webgpu');
  assert.ok(outs.some((o) => /tensor of shape \[\d+,\d+,3\], values [01]\.\d\d to [01]\.\d\d/.test(text(o))), 'the pixel range, read asynchronously');
  assert.ok(outs.some((o) => o.data && 'image/png' in o.data), 'a PNG is displayed');
  assert.ok(!outs.some((o) => o.name === 'stderr'), 'nothing on stderr');
});

/** A kernelspec named `name` in its own Jupyter folder; returns the env that makes Jupyter find it. */
function fakeKernel(name: string, argv: string[]): Record<string, string> {
  const dir = path.join(tmp, `jupyter-${name}`);
  fs.mkdirSync(path.join(dir, 'kernels', name), { recursive: true });
  fs.writeFileSync(path.join(dir, 'kernels', name, 'kernel.json'), JSON.stringify({ argv, display_name: name, language: 'typescript' }));
  return { JUPYTER_PATH: [dir, JUPYTER_DIR].join(path.delimiter) };
}

test('a kernel that never answers fails the run with the reason, after the retries, and is not left running', { timeout: 120_000 }, async () => {
  const marker = `never-answers-${process.pid}`;
  const env = fakeKernel(marker, ['/bin/sh', '-c', `exec sleep 600 # ${marker}`, '{connection_file}']);
  const nb = writeNotebook('never.ipynb', ["console.log('unreachable')"]);
  const started = Date.now();
  await assert.rejects(executeNotebook(nb, { out: path.join(tmp, 'never.out.ipynb'), kernel: marker, env, startupTimeout: 3, startAttempts: 2 }), (e: unknown) => {
    assert.ok(e instanceof NotebookFailed, String(e));
    assert.equal(e.run.cell, -1, 'no cell ran');
    assert.match(e.message, new RegExp(`kernel '${marker}' did not start \\(2 tries\\)`));
    assert.doesNotMatch(e.message, /AssertionError|cell -1/);
    return true;
  });
  assert.ok(Date.now() - started >= 6000, 'waited the startup timeout twice');
  const left = spawnSync('pgrep', ['-f', marker], { encoding: 'utf8' }).stdout.trim();
  assert.equal(left, '', 'no kernel process left behind');
});

test('a kernel start that hangs once is retried, and the notebook runs', { timeout: 120_000 }, async () => {
  const flag = path.join(tmp, 'hung-once');
  // The first start hangs (a loaded machine), the second is the real project kernel.
  const script = `if [ ! -e '${flag}' ]; then touch '${flag}'; exec sleep 600; fi; exec '${process.execPath}' '${path.join(PROJECT_ROOT, 'scripts', 'tslab-kernel.js')}' "$1"`;
  const env = fakeKernel('hangs-once', ['/bin/sh', '-c', script, 'kernel', '{connection_file}']);
  const nb = writeNotebook('hangs-once.ipynb', ["console.log('ran on the second start')"]);
  const out = path.join(tmp, 'hangs-once.out.ipynb');
  const run = await executeNotebook(nb, { out, kernel: 'hangs-once', env, startupTimeout: 20, startAttempts: 2 });
  assert.equal(run.ok, true);
  assert.ok(fs.existsSync(flag), 'the first start did hang');
  assert.ok(outputs(out).some((o) => text(o).includes('ran on the second start')));
});

test('a deliberately failing cell makes the run fail, naming the cell and the error', { timeout: 120_000 }, async () => {
  const nb = writeNotebook('fails.ipynb', ["console.log('first cell runs')", "throw new Error('deliberate failure')", "console.log('never reached')"]);
  await assert.rejects(executeNotebook(nb, { out: path.join(tmp, 'fails.out.ipynb') }), (e: unknown) => {
    assert.ok(e instanceof NotebookFailed);
    assert.equal(e.run.cell, 1);
    assert.match(e.message, /deliberate failure/);
    return true;
  });
});

test('a TypeScript type error fails the run too', { timeout: 120_000 }, async () => {
  const nb = writeNotebook('type-error.ipynb', ["const n: number = 'not a number';"]);
  await assert.rejects(executeNotebook(nb, { out: path.join(tmp, 'type-error.out.ipynb') }), /not assignable to type 'number'/);
});

test('notebooks import the library from the project root, wherever the notebook file is', { timeout: 120_000 }, async () => {
  const nb = writeNotebook('imports.ipynb', ["import { versions } from './lib/util/project';\nconsole.log(process.cwd(), versions()['deepfake-lab'])"]);
  const out = path.join(tmp, 'imports.out.ipynb');
  await executeNotebook(nb, { out });
  assert.ok(outputs(out).some((o) => text(o).startsWith(PROJECT_ROOT + ' 0.')));
});

test('the kernel keeps working after an imported .ts file is replaced on disk between cells', { timeout: 120_000 }, async () => {
  // A module inside the project (tslab compiles only under its root), changed between cells.
  const dir = path.join(PROJECT_ROOT, 'output', 'test-kernel');
  fs.mkdirSync(dir, { recursive: true });
  const mod = path.join(dir, `watched-${process.pid}.ts`);
  fs.writeFileSync(mod, 'export const n = 1;\n');
  const rel = './' + path.relative(PROJECT_ROOT, mod).replace(/\.ts$/, '');
  try {
    const nb = writeNotebook('stale.ipynb', [
      `import { n } from '${rel}';\nconsole.log('first', n)`,
      `const fs = require('fs');\nfs.writeFileSync(${JSON.stringify(mod + '.tmp')}, 'export const n = 2;\\n');\nfs.renameSync(${JSON.stringify(mod + '.tmp')}, ${JSON.stringify(mod)});\nawait new Promise((r) => setTimeout(r, 400));`,
      `import { n as m } from '${rel}';\nconsole.log('still running', 1 + 1)`,
    ]);
    const out = path.join(tmp, 'stale.out.ipynb');
    await executeNotebook(nb, { out });
    assert.ok(outputs(out).some((o) => text(o).includes('still running 2')));
  } finally {
    fs.rmSync(mod, { force: true });
  }
});

// tslab resolves every require against the requiring file's folder before node_modules: a bare
// import in lib/x/ that names a file beside it (lib/engine/webgpu.ts importing 'webgpu') gets that file in
// a notebook, and works everywhere else.
test('no library file imports a package that has the name of a file beside it (tslab would load the file)', () => {
  const offenders: string[] = [];
  const walk = (dir: string) => {
    const entries = fs.readdirSync(dir, { withFileTypes: true });
    const siblings = new Set(entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => e.name.slice(0, -3)));
    for (const e of entries) {
      const file = path.join(dir, e.name);
      if (e.isDirectory()) walk(file);
      else if (e.name.endsWith('.ts'))
        for (const m of fs.readFileSync(file, 'utf8').matchAll(/(?:from\s+|require\(\s*|import\(\s*)['"]([^'"./][^'"]*)['"]/g))
          if (siblings.has(m[1]!)) offenders.push(`${path.relative(PROJECT_ROOT, file)} imports '${m[1]}'`);
    }
  };
  walk(path.join(PROJECT_ROOT, 'lib'));
  assert.deepEqual(offenders, []);
});

// tslab rewrites a cell's top-level names into properties of the session, but not an object
// shorthand that names them: `{ frames }` in a later cell is a ReferenceError there (chapter 07
// met it), while `{ frames: frames }` works. Found with the TypeScript parser, cell by cell.
test('no notebook cell uses an earlier cell\'s variable as an object shorthand (tslab loses it)', () => {
  const offenders: string[] = [];
  for (const name of fs.readdirSync(path.join(PROJECT_ROOT, 'notebooks')).filter((f) => f.endsWith('.ipynb'))) {
    const nb = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'notebooks', name), 'utf8')) as { cells: Array<{ cell_type: string; source: string[] | string }> };
    const earlier = new Set<string>();
    nb.cells.filter((c) => c.cell_type === 'code').forEach((c, i) => {
      const src = ts.createSourceFile('cell.ts', Array.isArray(c.source) ? c.source.join('') : c.source, ts.ScriptTarget.ES2022, true);
      const visit = (n: ts.Node): void => {
        if (ts.isShorthandPropertyAssignment(n) && earlier.has(n.name.text)) offenders.push(`${name} code cell ${i + 1}: { ${n.name.text} }`);
        ts.forEachChild(n, visit);
      };
      visit(src);
      for (const st of src.statements)
        if (ts.isVariableStatement(st)) for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name)) earlier.add(d.name.text);
    });
  }
  assert.deepEqual(offenders, []);
});
