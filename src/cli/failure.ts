/** A subcommand's failure on bad input: one line naming the command and the problem, exit status 1, no stack trace. */
export function reportFailure(command: string, error: unknown): void {
  console.error(`syncbag ${command}: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
