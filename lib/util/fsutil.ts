// Writing files so that a crash never leaves a half-written one: write a temporary file beside
// the target, flush it, then rename it over the target (rename is atomic within a filesystem).

import * as fs from 'fs';
import * as path from 'path';

let counter = 0;

function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${counter++}.tmp`);
}

/** Names tempName gives: `.NAME.PID.N.tmp`. */
const TEMP_NAME = /^\..+\.\d+\.\d+\.tmp$/;

/**
 * Test hook for a full disk (tests run as root without mount rights, so they cannot fill a real
 * one): with DEEPFAKE_FAULT_ENOSPC set, an atomic write whose target path contains its value fails
 * after creating the temporary file, with the error node gives for ENOSPC.
 */
function injectedFault(file: string): NodeJS.ErrnoException | null {
  const match = process.env.DEEPFAKE_FAULT_ENOSPC;
  if (!match || !file.includes(match)) return null;
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
}

/** The target's path on a write error that has none (a failed write(2) names no file). */
function withPath(e: unknown, file: string): unknown {
  if (e instanceof Error && (e as NodeJS.ErrnoException).code && !(e as NodeJS.ErrnoException).path) (e as NodeJS.ErrnoException).path = file;
  return e;
}

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const tmp = tempName(file);
  const handle = await fs.promises.open(tmp, 'w');
  try {
    try {
      const fault = injectedFault(file);
      if (fault) throw fault;
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(tmp, file);
  } catch (e) {
    // A failed write (a full disk) must not leave its half-written temporary file behind.
    await fs.promises.rm(tmp, { force: true });
    throw withPath(e, file);
  }
}

export function writeFileAtomicSync(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = tempName(file);
  const fd = fs.openSync(tmp, 'w');
  try {
    try {
      const fault = injectedFault(file);
      if (fault) throw fault;
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw withPath(e, file);
  }
}

/** Remove temporary files an interrupted writer left in a folder (names from tempName). */
export function removeStaleTemps(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  let n = 0;
  for (const name of fs.readdirSync(dir)) {
    if (TEMP_NAME.test(name)) {
      fs.rmSync(path.join(dir, name), { force: true });
      n++;
    }
  }
  return n;
}
