// Executes notebooks on the project kernel through a real Jupyter client (nbclient, via
// scripts/run_notebook.py), for the tests and for `npm run demo`.

import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { CorruptFile, parseJson } from './jsonfile';
import { jupyterEnv } from './jupyter';
import { KERNEL_NAME, PROJECT_ROOT } from './project';

/** scripts/run_notebook.py's last stdout line: the run without the paths, which are ours. */
const RunnerReplySchema = z.object({
  ok: z.boolean(),
  cells: z.number(),
  seconds: z.number(),
  /** Index of the failing cell and what the kernel said, when ok is false. */
  cell: z.number().optional(),
  error: z.string().optional(),
});

export type NotebookRun = z.infer<typeof RunnerReplySchema> & {
  /** The executed copy. */
  out: string;
  html?: string;
};


export interface ExecuteOptions {
  /** Where the executed notebook goes. Default: output/notebooks/<name>.ipynb */
  out?: string;
  /** Also export an HTML page here. */
  html?: string;
  /** Extra environment for the kernel: notebooks read their small-settings knobs from it. */
  env?: Record<string, string>;
  /** Seconds per cell. */
  cellTimeout?: number;
  /** The kernel to run on. Default: the project's. */
  kernel?: string;
  /** Seconds to wait for the kernel to answer, per try (the runner's default: 180). */
  startupTimeout?: number;
  /** Kernel starts before giving up (the runner's default: 2). */
  startAttempts?: number;
}

export class NotebookFailed extends Error {
  constructor(readonly run: NotebookRun, notebook: string) {
    const why = (run.error ?? '').split('\n').filter(Boolean).slice(0, 6).join(' | ');
    // cell -1: no cell ran, the kernel never answered.
    super(`${path.basename(notebook)}: ${run.cell === -1 ? '' : `cell ${run.cell} failed: `}${why}`);
    this.name = 'NotebookFailed';
  }
}

/** Debian's Python carries Jupyter; the python3 first on PATH may not. */
export function jupyterPython(): string {
  return fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

/** Run every cell; resolves with the run, or rejects with NotebookFailed naming the cell and error. */
export function executeNotebook(notebook: string, options: ExecuteOptions = {}): Promise<NotebookRun> {
  const name = path.basename(notebook, '.ipynb');
  const out = options.out ?? path.join(PROJECT_ROOT, 'output', 'notebooks', `${name}.ipynb`);
  const args = [path.join(PROJECT_ROOT, 'scripts', 'run_notebook.py'), notebook, '--out', out, '--kernel', options.kernel ?? KERNEL_NAME];
  if (options.html) args.push('--html', options.html);
  if (options.cellTimeout) args.push('--timeout', String(options.cellTimeout));
  if (options.startupTimeout) args.push('--startup-timeout', String(options.startupTimeout));
  if (options.startAttempts) args.push('--start-attempts', String(options.startAttempts));
  return new Promise((resolve, reject) => {
    const child = spawn(jupyterPython(), args, {
      env: { ...jupyterEnv(), ...options.env, PYDEVD_DISABLE_FILE_VALIDATION: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      let parsed: Omit<NotebookRun, 'out' | 'html'>;
      try {
        parsed = parseJson(last, RunnerReplySchema, `the notebook runner's reply for ${name}`);
      } catch (e) {
        // Not JSON: the runner died before replying, and its stderr says why.
        const why = e instanceof CorruptFile && e.kind === 'shape' ? e.message : stderr.trim().split('\n').slice(-3).join(' | ');
        reject(new Error(`running ${name} failed (exit ${code}): ${why}`));
        return;
      }
      const run: NotebookRun = { ...parsed, out, html: options.html };
      if (run.ok && code === 0) resolve(run);
      else reject(new NotebookFailed(run, notebook));
    });
  });
}
