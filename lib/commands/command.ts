// What a CLI command is. Each command lives in its own file in this folder and is listed in
// lib/cli.ts; cli.ts parses options (declared in lib/commands/options.ts), prints the result and
// maps errors to exit codes.

import * as fs from 'fs';
import { OutputNotWritable } from './errors';
import type { Options, Values, ValuesOf } from './options';

export { OutputNotWritable, UsageError } from './errors';
export type { Options, Values } from './options';

function reasonOf(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EROFS') return 'read-only file system';
  if (code === 'ENOTDIR' || code === 'EEXIST') return 'not a folder';
  if (code === 'ENOSPC') return 'no space left on device';
  return code ?? (e as Error).message;
}

/**
 * Create an output folder if missing and check it can be written, before any work starts: a
 * long run should not fail at its first write (root passes access checks, so this guards users).
 */
export function ensureWritableDir(command: string, dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    if (!fs.statSync(dir).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
  } catch (e) {
    throw new OutputNotWritable(command, dir, reasonOf(e));
  }
}

export interface CommandResult {
  /** The JSON object printed as the last stdout line with --json. */
  result: object;
  /** What a person reads without --json. */
  text: string;
  exitCode?: number;
}

export interface Command {
  summary: string;
  /** One declaration per option (--json and --help are added for every command). */
  options: Options;
  /** Lines shown after the options in --help (what an argument may be, other forms of the command). */
  notes?: string;
  /** Run with checked values (lib/commands/options.ts checkValues). */
  run(values: Values): Promise<CommandResult>;
}

/** A command whose run() sees its options' own types (ValuesOf), listed in lib/cli.ts as a Command. */
export function defineCommand<O extends Options>(c: { summary: string; options: O; notes?: string; run(values: ValuesOf<O>): Promise<CommandResult> }): Command {
  // The values come from checkValues over these same declarations, so they have these types.
  return { ...c, run: (values) => c.run(values as ValuesOf<O>) };
}
