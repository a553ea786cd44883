/**
 * How every subcommand ends when something is wrong: one line naming the command, the input or
 * option, and the problem; never a stack trace (SYNCBAG_DEBUG=1 adds it for bug reports).
 * Exit statuses (README "Commands and exit codes"):
 */
import { statSync, type Stats } from "node:fs";
import { dirname, resolve } from "node:path";
import { z as zod, type z } from "zod";

export const EXIT = {
  ok: 0,
  /** An input could not be used (missing, unreadable, damaged, a drive failed) or the run failed. */
  failed: 1,
  /** The command ran but its result falls short: eval targets missed, nothing to export, a bench figure below target. */
  shortOfTarget: 2,
  /** A bad option or argument: nothing was done (EX_USAGE of sysexits.h). */
  usage: 64,
} as const;

/** A bad option or argument, found before any work starts. */
export class UsageError extends Error {
  override name = "UsageError";
  constructor(
    readonly command: string,
    readonly problems: readonly string[],
  ) {
    super(problems.join("; "));
  }
}

/** A subcommand's failure on bad input: one line naming the command and the problem, exit status 1, no stack trace. */
export function reportFailure(command: string, error: unknown): void {
  if (error instanceof UsageError) {
    reportUsage(error);
    return;
  }
  console.error(`syncbag ${command}: ${oneLine(error)}`);
  debugStack(error);
  process.exitCode = EXIT.failed;
}

export function reportUsage(error: UsageError): void {
  console.error(`syncbag ${error.command}: ${error.message}`);
  process.exitCode = EXIT.usage;
}

/**
 * A damaged input (truncated, corrupt) that a subcommand still used up to the damage: one line
 * naming the damage and what was kept, exit status 1 (the input was bad even if output was written).
 */
export function reportDamage(command: string, damage: string, kept: string): void {
  console.error(`syncbag ${command}: ${damage}: ${kept} before it; \`syncbag recover\` rebuilds a readable file`);
  process.exitCode = EXIT.failed;
}

export function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0]!.trim();
}

export function debugStack(error: unknown): void {
  if (process.env.SYNCBAG_DEBUG === "1" && error instanceof Error && error.stack !== undefined) console.error(error.stack);
}

/** `outDir` → `--out-dir`; a one-letter alias is not known here, so flags are named in long form. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * Validates a subcommand's options (commander's raw strings) with its zod schema at the boundary.
 * Every problem is reported, each as `--flag: what was wrong (got value)`.
 */
export function parseOptions<S extends z.ZodType>(command: string, schema: S, raw: Record<string, unknown>): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems: string[] = [];
  for (const issue of parsed.error.issues) {
    const key = String(issue.path[0] ?? "");
    const line = `${flagName(key)}: ${issue.message} (got ${JSON.stringify(raw[key]) ?? "nothing"})`;
    if (!problems.includes(line)) problems.push(line);
  }
  throw new UsageError(command, problems);
}

/** stat, or undefined when nothing is there (ENOENT, or ENOTDIR: a file stands where a folder should). */
function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw error;
  }
}

/**
 * Why `path` cannot be an output folder, or null: it exists and is not a folder, or a part of
 * it is a file (mkdir would fail with EEXIST/ENOTDIR).
 */
export function outputFolderProblem(path: string): string | null {
  let at = resolve(path);
  for (;;) {
    const info = statOrUndefined(at);
    if (info !== undefined) {
      if (info.isDirectory()) return null;
      return at === resolve(path) ? "exists and is not a folder" : `${at} is a file, not a folder`;
    }
    const parent = dirname(at);
    if (parent === at) return null;
    at = parent;
  }
}

/** Why `path` cannot be an output file, or null: it is a folder, or its folder is missing or a file. */
export function outputFileProblem(path: string): string | null {
  const info = statOrUndefined(resolve(path));
  if (info?.isDirectory() === true) return "is a folder; give a file name";
  const parent = statOrUndefined(dirname(resolve(path)));
  if (parent === undefined) return `its folder ${dirname(resolve(path))} does not exist`;
  if (!parent.isDirectory()) return `${dirname(resolve(path))} is not a folder`;
  return null;
}

/** Why `path` cannot be read as an input file, or null. */
export function inputFileProblem(path: string): string | null {
  const info = statOrUndefined(resolve(path));
  if (info === undefined) return "no such file";
  if (info.isDirectory()) return "is a folder, not a file";
  return null;
}

/** Zod schemas for commander's string option values, with messages a person reads. */
export const cliNumber = {
  /** A whole number in [min, max]. */
  int: (min: number, max: number, what = "a whole number") =>
    zod.string().trim().regex(/^[+-]?\d+$/, `expected ${what} from ${min} to ${max}`).transform(Number).pipe(zod.number().min(min, `expected ${what} from ${min} to ${max}`).max(max, `expected ${what} from ${min} to ${max}`)),
  /** A finite number ≥ min (or > min when `exclusive`). */
  atLeast: (min: number, exclusive = false, what = "a number") => {
    const message = `expected ${what} ${exclusive ? ">" : "≥"} ${min}`;
    return zod
      .string()
      .trim()
      .min(1, message)
      .transform(Number)
      .pipe(zod.number({ error: message }).refine((v) => Number.isFinite(v) && (exclusive ? v > min : v >= min), message));
  },
};
