// The errors a command throws for lib/cli.ts to map to exit 2 with one line.

/** Bad usage or unusable input: exit status 2 with this one-line message. */
export class UsageError extends Error {}

/** An output folder that cannot be written: exit 2, said as `<command>: cannot write to DIR (why)`. */
export class OutputNotWritable extends UsageError {
  constructor(readonly command: string, readonly dir: string, reason: string) {
    super(`cannot write to ${dir} (${reason})`);
  }
}
