/** A subcommand's failure on bad input: one line naming the command and the problem, exit status 1, no stack trace. */
export function reportFailure(command: string, error: unknown): void {
  console.error(`syncbag ${command}: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}

/**
 * A damaged input (truncated, corrupt) that a subcommand still used up to the damage: one line
 * naming the damage and what was kept, exit status 1 (the input was bad even if output was written).
 */
export function reportDamage(command: string, damage: string, kept: string): void {
  console.error(`syncbag ${command}: ${damage}: ${kept} before it; \`syncbag recover\` rebuilds a readable file`);
  process.exitCode = 1;
}
