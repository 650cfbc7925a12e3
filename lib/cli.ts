// The `deepfake-lab` command-line tool: the library's calls for long or scripted runs.
//
// Contract (../shared/docs/architecture.md): with --json the last line of standard output is one
// JSON object; progress and logs go to standard error. Exit status 0 done, 1 failed, 2 bad usage
// or unusable input, with a one-line reason on standard error.

import { Command as Program, CommanderError } from 'commander';
import { releaseWebgpu } from './engine/webgpu';
import { BackendUnavailableError } from './engine/backend';
import { OutputNotWritable, UsageError, type Command, type Values } from './commands/command';
import { checkValues, commanderOption, flag, type Options, type RawValues } from './commands/options';
import { benchCommand } from './commands/bench';
import { doctorCommand } from './commands/doctor';
import { extractCommand } from './commands/extract';
import { evalCommand } from './commands/eval';
import { trainCommand } from './commands/train';
import { scrapeCommand } from './commands/scrape';
import { samplesCommand } from './commands/samples';
import { swapCommand } from './commands/swap';

const COMMON: Options = {
  json: flag('the last line of standard output is one JSON object (logs stay on standard error)'),
};

// One file per command under lib/commands/; add new ones here.
const COMMANDS: Record<string, Command> = {
  doctor: doctorCommand,
  bench: benchCommand,
  extract: extractCommand,
  train: trainCommand,
  eval: evalCommand,
  scrape: scrapeCommand,
  swap: swapCommand,
  samples: samplesCommand,
};

/** What the command line asked for: a command and its raw option values (checked later). */
interface Chosen {
  name: string;
  raw: RawValues;
}

/**
 * The commander program, from the commands' declarations. Commander generates the usage and help
 * text and refuses unknown options, missing values and stray arguments; it throws (exitOverride)
 * instead of exiting, and prints nothing of its own on errors: main() says them in one line.
 * The values themselves are collected raw, by name, as each option is seen, and checked by
 * checkValues (so a flag and its --no- twin, like swap's --mark and --no-mark, stay two options).
 */
function program(chosen: { value: Chosen | null }): Program {
  const p = new Program('deepfake-lab')
    .description('Learn how autoencoder deepfakes work: train, swap and measure from the command line.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: () => {}, outputError: () => {} })
    .addHelpText('after', '\nWith --json the last line of standard output is a JSON object; logs go to standard error.');
  for (const [name, c] of Object.entries(COMMANDS)) {
    const raw: RawValues = {};
    const sub = p.command(name).description(c.summary).allowExcessArguments(false);
    for (const [opt, decl] of Object.entries({ ...c.options, ...COMMON })) {
      sub.addOption(commanderOption(opt, decl));
      sub.on(`option:${opt}`, (v?: string) => {
        const before = raw[opt];
        raw[opt] = decl.kind === 'flag' ? true : decl.kind === 'strings' ? [...(Array.isArray(before) ? before : []), v ?? ''] : v ?? '';
      });
    }
    if (c.notes) sub.addHelpText('after', `\n${c.notes}`);
    sub.action(() => {
      chosen.value = { name, raw };
    });
  }
  return p;
}

/** A command's checked option values from its arguments (tests call commands this way), or a UsageError. */
export function commandValues(name: string, args: string[]): Values {
  const chosen: { value: Chosen | null } = { value: null };
  try {
    program(chosen).parse([name, ...args], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) throw new UsageError(`${e.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ')} (see deepfake-lab ${name} --help)`);
    throw e;
  }
  if (!chosen.value) throw new UsageError(`unknown command "${name}"`);
  return checkValues({ ...COMMANDS[name]!.options, ...COMMON }, chosen.value.raw, name);
}

/** Run the CLI; resolves to the process exit status. */
export async function main(argv: string[]): Promise<number> {
  const [name] = argv;
  try {
    const chosen: { value: Chosen | null } = { value: null };
    const cli = program(chosen);
    if (!name) {
      // No command at all is bad usage (exit 2), with the help on standard output, as always.
      cli.outputHelp();
      return 2;
    }
    try {
      cli.parse(argv, { from: 'user' });
    } catch (e) {
      if (!(e instanceof CommanderError)) throw e;
      // --help, -h, `help [command]`: the generated help is written; done.
      if (e.exitCode === 0) return 0;
      const which = COMMANDS[name] ? `deepfake-lab ${name} --help` : 'deepfake-lab --help';
      throw new UsageError(`${e.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ')} (see ${which})`);
    }
    if (!chosen.value) throw new UsageError(`unknown command "${name}" (see deepfake-lab --help)`);
    const command = COMMANDS[chosen.value.name]!;
    const values = checkValues({ ...command.options, ...COMMON }, chosen.value.raw, chosen.value.name);
    const { result, text, exitCode = 0 } = await command.run(values);
    process.stdout.write(values.json ? JSON.stringify(result) + '\n' : text + '\n');
    return exitCode;
  } catch (e) {
    if (e instanceof OutputNotWritable) {
      process.stderr.write(`${e.command}: ${e.message}\n`);
      return 2;
    }
    // A full disk mid-run: say so with the file (lib/util/fsutil.ts adds it to failed writes).
    const err = (e ?? {}) as NodeJS.ErrnoException;
    if (err.code === 'ENOSPC' || err.code === 'EDQUOT') {
      process.stderr.write(`${name}: disk full (no space left on device) writing ${err.path ?? '?'}\n`);
      return 1;
    }
    // A forced backend that cannot run is unusable input, like a bad option.
    if (e instanceof UsageError || e instanceof BackendUnavailableError) {
      process.stderr.write(`deepfake-lab: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`deepfake-lab: ${(e as Error).message?.split('\n')[0] ?? String(e)}\n`);
    if (process.env.DEEPFAKE_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return 1;
  } finally {
    // Dawn's instance (webgpu backend) would keep the process alive after the command.
    releaseWebgpu();
  }
}
