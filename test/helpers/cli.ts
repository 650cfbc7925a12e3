// Running the real `deepfake-lab` binary in a child process, as a user or an outside check would.
import { spawnSync } from 'child_process';
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
