/**
 * Child processes for the ROS 2 suites (ros2 launch/run/bag/param/service, rclpy peers). Each
 * runs in its own process group, as a command started from a terminal does, so a test can send
 * a signal to the whole group (what Ctrl-C does) and `killAll()` in an `after` hook leaves
 * nothing behind.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));
export const PEERS = fileURLToPath(new URL("./peers/", import.meta.url));

export interface Proc {
  readonly child: ChildProcess;
  readonly name: string;
  output(): string;
  /** Resolves with the exit code (or 128 + signal number) once the process has exited. */
  readonly exited: Promise<number>;
  /** Waits until the combined output matches, or fails naming what was awaited and the output so far. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Signals the process group (negative pid), as a terminal does on Ctrl-C. */
  signalGroup(signal: NodeJS.Signals): void;
  /** Signals the process alone. */
  signal(signal: NodeJS.Signals): void;
}

const running = new Set<Proc>();
/** Every process group started, kept after its leader exits: launch's children outlive it when launch is killed. */
const groups = new Set<number>();
const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

export function start(name: string, command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Proc {
  const child = spawn(command, args, { cwd: options.cwd ?? REPO, env: { ...process.env, ...options.env }, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    text += chunk.toString("utf8");
    for (const l of listeners) l();
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  let done = false;
  const exited = new Promise<number>((resolve) => {
    child.on("error", (error) => {
      text += `\n[spawn error: ${error.message}]`;
      done = true;
      resolve(127);
    });
    child.on("close", (code, signal) => {
      done = true;
      for (const l of listeners) l();
      resolve(code ?? 128 + (signal === null ? 0 : (SIGNAL_NUMBERS[signal] ?? 0)));
    });
  });
  const proc: Proc = {
    child,
    name,
    output: () => text,
    exited,
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = text.match(pattern);
          if (match !== null) finish(() => resolve(match));
          else if (done) finish(() => reject(new Error(`${name} exited before printing ${pattern}:\n${text.slice(-3000)}`)));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`${name}: no ${pattern} within ${timeoutMs} ms:\n${text.slice(-3000)}`))), timeoutMs);
        const finish = (then: () => void): void => {
          clearTimeout(timer);
          listeners.delete(check);
          then();
        };
        listeners.add(check);
        check();
      });
    },
    signalGroup(signal) {
      if (!done && child.pid !== undefined) {
        try {
          process.kill(-child.pid, signal);
        } catch {
          // already gone
        }
      }
    },
    signal(signal) {
      if (!done) child.kill(signal);
    },
  };
  running.add(proc);
  if (child.pid !== undefined) groups.add(child.pid);
  void exited.then(() => running.delete(proc));
  return proc;
}

/** Runs a command to its end; resolves with its exit code and output. */
export async function run(name: string, command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ code: number; output: string }> {
  const proc = start(name, command, args, options);
  const timer = setTimeout(() => proc.signalGroup("SIGKILL"), options.timeoutMs ?? 60_000);
  const code = await proc.exited;
  clearTimeout(timer);
  return { code, output: proc.output() };
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kills every process group this module started (SIGKILL), and waits until they are gone: for `after` hooks. */
export async function killAll(): Promise<void> {
  const procs = [...running];
  for (const pgid of groups) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // the group is gone
    }
  }
  await Promise.all(procs.map((p) => p.exited));
  const deadline = Date.now() + 5000;
  while ([...groups].some(groupAlive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  for (const pgid of [...groups]) if (!groupAlive(pgid)) groups.delete(pgid);
}

/** Process groups this module started that still have a live process (a test can assert none leaked). */
export function stillRunning(): string[] {
  return [...groups].filter(groupAlive).map(String);
}

/** Whether any process of the group `proc` started is still alive (children that outlived it included). */
export function groupRunning(proc: Proc): boolean {
  return proc.child.pid !== undefined && groupAlive(proc.child.pid);
}

/** Waits until every process in `proc`'s group has exited, or fails after `timeoutMs`. */
export async function groupExited(proc: Proc, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (groupRunning(proc)) {
    if (Date.now() > deadline) throw new Error(`${proc.name}: processes of its group still running after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
