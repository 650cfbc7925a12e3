// A signal that arrives during a native call leaves the process intact. The matrix products once
// ran on oneDNN 2.6's dnnl_sgemm, which corrupted the heap when a signal landed in a call with more
// than one row (a terminal resize, a child process ending, a profiler's SIGPROF): the process died
// later in free() ("corrupted size vs. prev_size"). This runs products and convolutions in a child
// process while this one sends it signals, and the child must finish with the same results.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'child_process';
import * as path from 'path';
import { nativeSkip } from '../helpers/strict';

const skip = nativeSkip();

// The child: products of the shapes that crashed (3 faces through the landmark net's last layer,
// a dense layer of a batch of 16) and a convolution, compared with their first results, for 4 s.
const CHILD = `
const { loadAddon } = require(${JSON.stringify(path.resolve(__dirname, '../../lib/engine/native/addon.ts'))});
process.on('SIGUSR2', () => {});
const load = loadAddon();
if (!load.ok) throw new Error(load.reason);
const addon = load.addon;
const rand = (n) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 0.5);
const cases = [[3, 256, 136], [16, 512, 64], [5, 128, 7]].map(([M, K, N]) => {
  const a = rand(M * K), b = rand(K * N), run = () => { const c = new Float32Array(M * N); addon.matMul(a, b, c, 1, 1, M, N, K, false, false); return c; };
  return { run, ref: run() };
});
let calls = 0, wrong = 0;
console.log('ready');
const t0 = Date.now();
while (Date.now() - t0 < 4000) {
  for (const c of cases) {
    const out = c.run();
    calls++;
    if (out.some((v, i) => v !== c.ref[i])) wrong++;
  }
  // Garbage for the allocator to hand out and take back, where a stray write would land.
  const junk = Array.from({ length: 64 }, (_, i) => new Float32Array(64 + i));
  if (junk.length === 0) console.log(junk);
}
console.log(JSON.stringify({ calls, wrong }));
// Exit when the parent has stopped signalling (it closes stdin): a signal during exit, with the
// handler gone, would end the process by its default action.
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
`;

test('native matrix products survive a storm of signals with the same results', { skip, timeout: 60_000 }, async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', CHILD], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ? -1 : code)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve();
    });
    child.on('exit', () => reject(new Error(`child ended before it was ready: ${err.trim()}`)));
  });
  let sent = 0, running = true;
  void exited.then(() => (running = false));
  while (running && !out.includes('"calls"')) {
    try {
      process.kill(child.pid!, 'SIGUSR2');
      sent++;
    } catch {
      break; // gone
    }
    await new Promise((r) => setTimeout(r, 0.5));
  }
  child.stdin.end();
  const code = await exited;
  t.diagnostic(`${sent} signals sent; child said ${out.trim().split('\n').pop()}`);
  assert.equal(code, 0, `the child died (${code}): ${err.trim().split('\n').slice(-3).join(' | ')}`);
  const result = JSON.parse(out.trim().split('\n').pop()!) as { calls: number; wrong: number };
  assert.ok(sent > 500, `only ${sent} signals were sent`);
  assert.ok(result.calls > 100, `only ${result.calls} products ran`);
  assert.equal(result.wrong, 0, `${result.wrong} of ${result.calls} products differed from their first result`);
});
