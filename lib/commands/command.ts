// What a CLI command is. Each command lives in its own file in this folder and is listed in
// lib/cli.ts; cli.ts parses options, prints the result and maps errors to exit codes.

import type { ParseArgsConfig } from 'util';

/** Bad usage or unusable input: exit status 2 with this one-line message. */
export class UsageError extends Error {}

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
