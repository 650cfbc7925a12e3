// The `deepfake-lab` command-line tool: the library's calls for long or scripted runs.
//
// Contract (../shared/docs/architecture.md): with --json the last line of standard output is one
// JSON object; progress and logs go to standard error. Exit status 0 done, 1 failed, 2 bad usage
// or unusable input, with a one-line reason on standard error.

import { releaseWebgpu } from './engine/webgpu';
import { parseArgs } from 'util';
import { BackendUnavailableError } from './engine/backend';
import { OutputNotWritable, UsageError, type Command, type Options, type Values } from './commands/command';
import { benchCommand } from './commands/bench';
import { doctorCommand } from './commands/doctor';
import { extractCommand } from './commands/extract';
import { evalCommand } from './commands/eval';
import { trainCommand } from './commands/train';
import { scrapeCommand } from './commands/scrape';
import { samplesCommand } from './commands/samples';
import { swapCommand } from './commands/swap';

const COMMON: Options = {
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
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


function helpText(): string {
  const lines = ['usage: deepfake-lab <command> [options] [--json]', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(8)} ${c.summary}`);
  lines.push('', 'With --json the last line of standard output is a JSON object; logs go to standard error.');
  return lines.join('\n');
}

/** Run the CLI; resolves to the process exit status. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (!name || name === '--help' || name === '-h' || name === 'help') {
      process.stdout.write(helpText() + '\n');
      return name ? 0 : 2;
    }
    const command = COMMANDS[name];
    if (!command) {
      throw new UsageError(`unknown command "${name}" (run deepfake-lab --help)`);
    }
    let values: Values;
    try {
      values = parseArgs({ args: rest, options: { ...COMMON, ...command.options }, strict: true, allowPositionals: false }).values as Values;
    } catch (e) {
      throw new UsageError(`${(e as Error).message.split('\n')[0]} (usage: ${command.usage})`);
    }
    if (values.help) {
      process.stdout.write(`usage: ${command.usage}\n${command.summary}\n`);
      return 0;
    }
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
