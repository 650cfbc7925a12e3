// Reading the project's JSON files (and JSON replies) through a schema, so that a corrupt or
// foreign file is one clear line naming it instead of a half-typed object that fails later, far
// from the cause. Every reader of a file on disk goes through here; the schemas sit beside the
// types they describe.

import * as fs from 'fs';
import { z } from 'zod';

/**
 * A number as JSON stores it: JSON.stringify writes NaN and Infinity as null, so a file holding a
 * diverged loss is still valid; null reads back as NaN.
 */
export const JsonNumber = z.union([z.number(), z.null().transform((): number => NaN)]);

// zod infers types only under strictNullChecks. Without it (tslab compiles the library for the
// notebooks non-strict: tsconfig.notebook.json) `.nullable()` and `.optional()` fields infer as
// optional and tuples as [number?, number?, ...unknown[]]. Our own types are z.infer of their
// schemas; schemaFor is for the few that cannot be: a type a library owns (tfjs's weights entry,
// seedrandom's state) and the tuples Point and Matrix (lib/faces/types.ts). It checks in the strict compile.
type StrictNullChecks = null extends string ? false : true;

/**
 * `schemaFor<T>()(schema)`: the schema, typed as reading T. In the project's strict compile the
 * schema's output must be assignable to T, so the schema and the interface cannot drift apart.
 * (Curried because TypeScript cannot take T explicitly and infer the schema's own type.)
 */
export function schemaFor<T>(): <S extends StrictNullChecks extends true ? z.ZodType<T> : z.ZodType>(schema: S) => z.ZodType<T> {
  // Checked by the constraint in the strict compile; only the notebooks' loose compile needs the cast.
  return (schema) => schema as unknown as z.ZodType<T>;
}

/**
 * Every key of T, each with some schema: `const shape = {...} satisfies ShapeOf<T>` fails to
 * compile when T gains a field the schema lacks (z.object would silently drop it on reading).
 */
export type ShapeOf<T> = { [K in keyof T]-?: z.ZodType };

/** A file (or reply) that is not what it should be. The message is one line and names it. */
export class CorruptFile extends Error {
  constructor(
    readonly file: string,
    readonly why: string,
    /** 'syntax': not JSON at all (cut off, binary, an HTML page); 'shape': JSON, but not of the schema. */
    readonly kind: 'syntax' | 'shape' | 'other' = 'other',
  ) {
    super(`${file}: ${why}`);
    this.name = 'CorruptFile';
  }
}

/** The first problem zod found, as "at images[3].box: expected object, received null". */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'does not match its schema';
  const where = issue.path.length ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : 'the top level';
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : '';
  // zod's union message is a bare "Invalid input"; say what it means.
  const message = issue.code === 'invalid_union' ? 'matches none of the expected forms' : issue.message.replace(/^Invalid input: /, '');
  return `at ${where}: ${message}${more}`;
}

/** Parse JSON text into the schema's type, or throw CorruptFile naming `file` (or the reply). */
export function parseJson<S extends z.ZodType>(text: string, schema: S, file: string): z.infer<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CorruptFile(file, `not valid JSON (${(e instanceof Error ? e.message : String(e)).split('\n')[0]})`, 'syntax');
  }
  const r = schema.safeParse(value);
  if (!r.success) throw new CorruptFile(file, `not of the expected shape, ${describeIssue(r.error)}`, 'shape');
  return r.data;
}

/** Read and parse a JSON file; a missing file throws as fs does, a corrupt one as CorruptFile. */
export function readJsonFile<S extends z.ZodType>(file: string, schema: S): z.infer<S> {
  return parseJson(fs.readFileSync(file, 'utf8'), schema, file);
}

/** As readJsonFile, but null when the file does not exist. */
export function readJsonFileIfExists<S extends z.ZodType>(file: string, schema: S): z.infer<S> | null {
  if (!fs.existsSync(file)) return null;
  return readJsonFile(file, schema);
}

export async function readJsonFileAsync<S extends z.ZodType>(file: string, schema: S): Promise<z.infer<S>> {
  return parseJson(await fs.promises.readFile(file, 'utf8'), schema, file);
}

export interface JsonLines<T> {
  records: T[];
  /** One line per corrupt line in the middle of the file (those records are left out). */
  problems: string[];
  /** The same, as line number (1-based) and what is wrong, for callers that word it themselves. */
  damaged: Array<{ line: number; why: string }>;
  /** The last line was cut off (a writer killed mid-line): it is left out, without a problem. */
  truncatedLast: boolean;
}

/**
 * Parse a .jsonl file's text. Appending writers can be killed mid-line, so an unparsable *last*
 * line is expected and tolerated; an unparsable or invalid line before it is damage, and is
 * reported in `problems` (file and line number) for the caller to print.
 */
export function parseJsonLines<S extends z.ZodType>(text: string, schema: S, file: string): JsonLines<z.infer<S>> {
  const lines = text.split('\n');
  // The last non-empty line is the one a killed writer can have cut (a complete file ends in \n).
  let last = lines.length - 1;
  while (last >= 0 && lines[last].trim() === '') last--;
  const out: JsonLines<z.infer<S>> = { records: [], problems: [], damaged: [], truncatedLast: false };
  const damage = (line: number, why: string) => {
    out.damaged.push({ line, why });
    out.problems.push(`${file}: line ${line} ${why}; left out`);
  };
  for (let i = 0; i <= last; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      if (i === last && !text.endsWith('\n')) out.truncatedLast = true;
      else damage(i + 1, 'is not valid JSON');
      continue;
    }
    const r = schema.safeParse(value);
    if (r.success) out.records.push(r.data);
    else damage(i + 1, `is not a valid record, ${describeIssue(r.error)}`);
  }
  return out;
}

/** Read a .jsonl file (empty when missing) through parseJsonLines. */
export function readJsonLines<S extends z.ZodType>(file: string, schema: S): JsonLines<z.infer<S>> {
  if (!fs.existsSync(file)) return { records: [], problems: [], damaged: [], truncatedLast: false };
  return parseJsonLines(fs.readFileSync(file, 'utf8'), schema, file);
}
