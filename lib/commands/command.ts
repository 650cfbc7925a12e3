// What a CLI command is. Each command lives in its own file in this folder and is listed in
// lib/cli.ts; cli.ts parses options, prints the result and maps errors to exit codes.

import * as fs from 'fs';
import type { ParseArgsConfig } from 'util';

/** Bad usage or unusable input: exit status 2 with this one-line message. */
export class UsageError extends Error {}

/** An output folder that cannot be written: exit 2, said as `<command>: cannot write to DIR (why)`. */
export class OutputNotWritable extends UsageError {
  constructor(readonly command: string, readonly dir: string, reason: string) {
    super(`cannot write to ${dir} (${reason})`);
  }
}

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

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | string[] | undefined>;

export interface CommandResult {
  /** The JSON object printed as the last stdout line with --json. */
  result: object;
  /** What a person reads without --json. */
  text: string;
  exitCode?: number;
}

export interface Command {
  summary: string;
  usage: string;
  /** util.parseArgs options (--json and --help are added for every command). */
  options: Options;
  run(values: Values): Promise<CommandResult>;
}

/** A required string option, or a UsageError naming it. */
export function requireString(values: Values, name: string, usage: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required (usage: ${usage})`);
  return v;
}

/** An optional integer option within [min, max], or a UsageError. */
export function intOption(values: Values, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${String(v)}`);
  return n;
}

/** An optional number option within [min, max], or a UsageError. */
export function numberOption(values: Values, name: string, fallback: number, min: number, max: number): number {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n) || n < min || n > max)
    throw new UsageError(`--${name} must be a number from ${min} to ${max}, got ${String(v)}`);
  return n;
}
