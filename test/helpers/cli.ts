// Running the real `deepfake-lab` binary in a child process, as a user or an outside check would.
import { spawn, spawnSync } from 'child_process';
import * as path from 'path';
import { PROJECT_ROOT } from './shared';

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The last stdout line parsed as JSON, when it is JSON. */
  json: Record<string, unknown> | null;
}

export function runCli(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 120_000): CliRun {
  const r = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'deepfake-lab.js'), ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(last);
  } catch {
    json = null;
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

/** Start the CLI without waiting; `done` resolves the exit status and output when it ends. */
export function startCli(args: string[]) {
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'deepfake-lab.js'), ...args], { cwd: PROJECT_ROOT });
  let stdout = '', stderr = '';
  child.stdout.on('data', (b) => (stdout += b));
  child.stderr.on('data', (b) => (stderr += b));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done, stderr: () => stderr };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll until cond() holds; throw after timeoutMs. */
export async function waitFor(cond: () => boolean, timeoutMs: number, pollMs = 20): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting');
    await sleep(pollMs);
  }
}
