// Command-line options, declared once: each option is one declaration (its kind, placeholder,
// description, default and allowed range or choices). The commander options (and so the --help
// text), the parsing of each value and the type of the values a command's run() receives all
// follow from it. Usage errors are UsageError: exit 2 with one line (lib/cli.ts).

import { Option } from 'commander';
import { z } from 'zod';
import { UsageError } from './errors';

interface Described {
  description: string;
}
export interface FlagOption extends Described {
  kind: 'flag';
}
export interface StringOption<R extends boolean = boolean> extends Described {
  kind: 'string';
  /** The placeholder in the help text: DIR, FILE, NAME... */
  arg: string;
  /** Checked after parsing (so --help works without it): `--NAME is required`. */
  required?: R;
}
/** A repeatable string option (`--model A --model B`). */
export interface StringsOption extends Described {
  kind: 'strings';
  arg: string;
}
export interface NumberOption<D extends number | undefined = number | undefined> extends Described {
  kind: 'int' | 'number';
  arg: string;
  min: number;
  max: number;
  default?: D;
}
export interface ChoiceOption<C extends string = string, D extends C | undefined = C | undefined> extends Described {
  kind: 'choice';
  choices: readonly C[];
  default?: D;
}
export type OptionDecl = FlagOption | StringOption | StringsOption | NumberOption | ChoiceOption;
export type Options = Record<string, OptionDecl>;

/** The value run() gets for one declaration. */
export type ValueOf<O> = O extends FlagOption
  ? boolean
  : O extends StringsOption
    ? string[]
    : O extends StringOption<infer R>
      ? R extends true ? string : string | undefined
      : O extends NumberOption<infer D>
        ? D extends number ? number : number | undefined
        : O extends ChoiceOption<infer C, infer D>
          ? D extends C ? C : C | undefined
          : never;
export type ValuesOf<O extends Options> = { -readonly [K in keyof O]: ValueOf<O[K]> };
/** Values of any command, as lib/cli.ts passes them along (each command's run() sees its own type). */
export type Values = Record<string, unknown>;

// Constructors that keep the literal types ValueOf reads (a default makes the value non-optional).
export const flag = (description: string): FlagOption => ({ kind: 'flag', description });
export function text(arg: string, description: string): StringOption<false>;
export function text(arg: string, description: string, o: { required: true }): StringOption<true>;
export function text(arg: string, description: string, o: { required?: boolean } = {}): StringOption {
  return { kind: 'string', arg, description, required: o.required === true };
}
export const texts = (arg: string, description: string): StringsOption => ({ kind: 'strings', arg, description });
export function int<D extends number | undefined = undefined>(arg: string, description: string, range: { min: number; max?: number; default?: D }): NumberOption<D> {
  return { kind: 'int', arg, description, min: range.min, max: range.max ?? Number.MAX_SAFE_INTEGER, default: range.default };
}
export function num<D extends number | undefined = undefined>(arg: string, description: string, range: { min: number; max: number; default?: D }): NumberOption<D> {
  return { kind: 'number', arg, description, min: range.min, max: range.max, default: range.default };
}
export function choice<const C extends string, D extends C | undefined = undefined>(choices: readonly C[], description: string, def?: D): ChoiceOption<C, D> {
  return { kind: 'choice', choices, description, default: def };
}

/** "a or b", "one of a, b, c". */
export function allowed(choices: readonly string[]): string {
  return choices.length === 2 ? `${choices[0]} or ${choices[1]}` : `one of ${choices.join(', ')}`;
}

/** One raw command-line value as its declaration's type, or a UsageError saying what is allowed. */
export function parseValue(name: string, o: OptionDecl, raw: string): unknown {
  switch (o.kind) {
    case 'flag':
      return true;
    case 'string':
    case 'strings':
      return raw;
    case 'int':
    case 'number': {
      const n = Number(raw);
      const ok = raw.trim() !== '' && Number.isFinite(n) && (o.kind === 'number' || Number.isInteger(n)) && n >= o.min && n <= o.max;
      if (!ok) throw new UsageError(`--${name} must be ${o.kind === 'int' ? 'an integer' : 'a number'} from ${o.min} to ${o.max}, got ${raw}`);
      return n;
    }
    case 'choice':
      if (!o.choices.includes(raw)) throw new UsageError(`--${name} must be ${allowed(o.choices)}, got ${raw}`);
      return raw;
  }
}

/** The commander option for a declaration: what --help shows (values are read by `collect`). */
export function commanderOption(name: string, o: OptionDecl): Option {
  // A long list of choices goes in the description, so the option column stays narrow.
  const long = o.kind === 'choice' && o.choices.join('|').length > 24;
  const arg = o.kind === 'flag' ? '' : o.kind === 'choice' ? (long ? ' <NAME>' : ` <${o.choices.join('|')}>`) : ` <${o.arg}>`;
  const range = o.kind === 'int' || o.kind === 'number' ? (o.max === Number.MAX_SAFE_INTEGER ? ` (at least ${o.min})` : ` (${o.min} to ${o.max})`) : long ? ` (${allowed(o.choices)})` : '';
  const opt = new Option(`--${name}${arg}`, `${o.description}${range}`);
  if ((o.kind === 'int' || o.kind === 'number' || o.kind === 'choice') && o.default !== undefined) opt.default(o.default);
  return opt;
}

/** The values of the options given (raw strings, or true for flags; lists for repeatable ones). */
export type RawValues = Record<string, string | string[] | true>;

/** Typed, checked values from raw ones: each parsed by its declaration, defaults filled in, required ones present. */
export function checkValues(options: Options, raw: RawValues, command: string): Values {
  const out: Values = {};
  for (const [name, o] of Object.entries(options)) {
    const v = raw[name];
    if (o.kind === 'strings') out[name] = Array.isArray(v) ? v : [];
    else if (o.kind === 'flag') out[name] = v === true;
    else if (typeof v === 'string') out[name] = parseValue(name, o, v);
    else if (o.kind === 'string' && o.required) throw new UsageError(`--${name} is required (see deepfake-lab ${command} --help)`);
    else out[name] = o.kind === 'string' ? undefined : o.default;
  }
  return out;
}

/**
 * An option declared by a zod schema: a boolean is a flag, an enum a choice, a number (with its
 * min and max, and .int()) a number option. So a setting's schema is also its command-line flag.
 */
export function optionFromSchema(schema: z.ZodType, arg: string, description: string): OptionDecl {
  const inner = schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema;
  if (inner instanceof z.ZodBoolean) return flag(description);
  if (inner instanceof z.ZodEnum) return choice(inner.options.map(String), description);
  if (inner instanceof z.ZodNumber) {
    const range = { min: inner.minValue ?? -Number.MAX_VALUE, max: inner.maxValue ?? Number.MAX_VALUE };
    return inner.isInt ? int(arg, description, range) : num(arg, description, range);
  }
  throw new Error(`no command-line form for a ${inner.def.type} schema (${description})`);
}
