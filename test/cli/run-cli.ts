/** Runs the CLI from the sources as a separate process (as a user would, minus the build). */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";

export const REPO = resolve(import.meta.dirname, "..", "..");
const MAIN = resolve(REPO, "src", "cli", "main.ts");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((done) => {
    execFile(process.execPath, ["--import", "tsx", MAIN, ...args], { cwd: options.cwd ?? REPO, timeout: options.timeoutMs ?? 60_000, maxBuffer: 32 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof (error as { code?: unknown }).code === "number" ? (error as { code: number }).code : -1;
      done({ code, stdout, stderr });
    });
  });
}

export function spawnCli(args: string[], cwd = REPO): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", MAIN, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
}

/** No stack trace: no "    at …" frames, no Node's source excerpt with a caret. */
export function assertNoStack(text: string): void {
  if (/^\s+at .+\(.+:\d+:\d+\)$/m.test(text) || /^\s*\^+\s*$/m.test(text) || /Node\.js v\d+/.test(text)) throw new Error(`stack trace printed:\n${text}`);
}
