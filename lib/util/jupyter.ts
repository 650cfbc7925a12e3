// The project's Jupyter kernel: TypeScript on tslab, started at the project root.
//
// tslab compiles with rootDir = the kernel's working directory, and Jupyter starts kernels in the
// notebook's folder, so `import ... from '../lib/x'` from notebooks/ fails ("not under rootDir").
// Our kernelspec starts tslab from the project root instead (scripts/tslab-kernel.js), so
// notebooks import './lib/...'. It lives in the project's own Jupyter folder, found through
// JUPYTER_PATH, so nothing is installed into the user's global Jupyter.

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { parseJson } from './jsonfile';
import { JUPYTER_DIR, KERNEL_NAME, PROJECT_ROOT } from './project';

/** `jupyter kernelspec list --json`, the part read here. */
const KernelSpecListSchema = z.object({ kernelspecs: z.record(z.string(), z.object({ resource_dir: z.string() })) });

export interface KernelSpec {
  argv: string[];
  display_name: string;
  language: string;
  metadata?: Record<string, unknown>;
}

export function kernelSpec(root = PROJECT_ROOT): KernelSpec {
  return {
    argv: [process.execPath, path.join(root, 'scripts', 'tslab-kernel.js'), '{connection_file}'],
    display_name: 'TypeScript (Deepfake Lab)',
    language: 'typescript',
  };
}

/** Write the kernelspec when it is missing or stale (the project moved, node changed). */
export function ensureKernelSpec(root = PROJECT_ROOT): { file: string; changed: boolean } {
  const dir = path.join(root, '.jupyter', 'kernels', KERNEL_NAME);
  const file = path.join(dir, 'kernel.json');
  const text = JSON.stringify(kernelSpec(root), null, 2) + '\n';
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text) return { file, changed: false };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(file + '.tmp', text);
  fs.renameSync(file + '.tmp', file);
  return { file, changed: true };
}

/** Environment for Jupyter commands so they find the project kernel. */
export function jupyterEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const extra = base.JUPYTER_PATH ? [JUPYTER_DIR, base.JUPYTER_PATH] : [JUPYTER_DIR];
  return { ...base, JUPYTER_PATH: extra.join(path.delimiter) };
}

export interface JupyterStatus {
  /** The `jupyter` command runs. */
  found: boolean;
  /** The project kernel's name when Jupyter lists it, else null. */
  kernel: string | null;
  nbconvert: boolean;
  reason: string;
}

export function jupyterStatus(): JupyterStatus {
  const run = (args: string[]) => spawnSync('jupyter', args, { env: jupyterEnv(), encoding: 'utf8', timeout: 30_000 });
  const list = run(['kernelspec', 'list', '--json']);
  if (list.error || list.status !== 0)
    return { found: false, kernel: null, nbconvert: false, reason: 'jupyter not found (run npm run setup)' };
  let kernel: string | null = null;
  let unreadable: string | null = null;
  try {
    const specs = parseJson(list.stdout, KernelSpecListSchema, 'jupyter kernelspec list --json').kernelspecs;
    if (specs[KERNEL_NAME] && path.resolve(specs[KERNEL_NAME].resource_dir).startsWith(JUPYTER_DIR)) kernel = KERNEL_NAME;
  } catch (e) {
    unreadable = (e as Error).message; // the kernel cannot be confirmed: say why instead
  }
  const nbconvert = run(['nbconvert', '--version']).status === 0;
  const reason = kernel ? (nbconvert ? 'ready' : 'nbconvert missing') : (unreadable ?? `kernel ${KERNEL_NAME} not installed (run npm run setup)`);
  return { found: true, kernel, nbconvert, reason };
}
