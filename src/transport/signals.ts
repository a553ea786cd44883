/**
 * SIGINT/SIGTERM → a clean transport shutdown (onShutdown callbacks finalise the recording),
 * then exit. One Ctrl-C usually reaches the node more than once: the terminal signals the whole
 * process group, and `ros2 launch` (or `ros2 run`) forwards its own SIGINT to the node a few
 * milliseconds later. Repeats within `repeatGraceMs` of the first are therefore the same
 * request and ignored; a signal after that is a user insisting, and exits at once.
 *
 * The parent's death is a shutdown request too: `ros2 run` dies on SIGTERM without passing it
 * on, and `ros2 launch` exits on SIGTERM without signalling its nodes, leaving the node
 * orphaned (reparented) with its recording open. The node polls its parent pid for that (what
 * prctl's PR_SET_PDEATHSIG would do, which Node.js cannot set).
 */
import type { Transport } from "./port.js";

/** The slice of `process` this needs, injectable for tests. */
export interface SignalProcess {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  removeListener(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  exit(code: number): void;
  /** The parent's pid; absent: the parent is not watched. */
  readonly ppid?: number;
}

export interface ShutdownSignalOptions {
  /** Default SIGINT and SIGTERM. */
  signals?: NodeJS.Signals[];
  process?: SignalProcess;
  /** Exit once shut down (code 0, or 1 when a shutdown callback failed). Default true. */
  exit?: boolean;
  /** Progress messages. Default: stderr. */
  log?: (message: string) => void;
  /** Repeats this soon after the first signal are duplicates, not a request to force (ms). Default 2000. */
  repeatGraceMs?: number;
  /** Monotonic milliseconds (tests). */
  now?: () => number;
  /** How often the parent pid is checked (ms); 0 = not watched. Default 500. */
  parentPollMs?: number;
}

const FORCED_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

/** Installs the handlers; returns a function that removes them. */
export function installShutdownSignals(transport: Pick<Transport, "shutdown">, options: ShutdownSignalOptions = {}): () => void {
  const proc: SignalProcess = options.process ?? process;
  const signals = options.signals ?? ["SIGINT", "SIGTERM"];
  const exit = options.exit ?? true;
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const grace = options.repeatGraceMs ?? 2000;
  const now = options.now ?? (() => performance.now());
  let firstAt: number | null = null;
  let parentTimer: NodeJS.Timeout | undefined;
  const shutDown = (): void => {
    if (parentTimer !== undefined) clearInterval(parentTimer);
    transport.shutdown().then(
      () => {
        if (exit) proc.exit(0);
      },
      (error: unknown) => {
        log(`shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
        if (exit) proc.exit(1);
      },
    );
  };
  const listener = (signal: NodeJS.Signals): void => {
    if (firstAt !== null) {
      if (now() - firstAt < grace) {
        log(`${signal} again within ${grace} ms: already shutting down`);
        return;
      }
      log(`${signal} again: exiting without finishing the shutdown`);
      proc.exit(FORCED_EXIT[signal] ?? 1);
      return;
    }
    firstAt = now();
    log(`${signal}: shutting down (send it again after ${grace / 1000} s to force)`);
    shutDown();
  };
  for (const s of signals) proc.on(s, listener);
  const parent = proc.ppid;
  const pollMs = options.parentPollMs ?? 500;
  // pid 1 (or 0 in a container) as parent: already orphaned at start, nothing to watch.
  if (parent !== undefined && parent > 1 && pollMs > 0) {
    parentTimer = setInterval(() => {
      if (proc.ppid === parent || firstAt !== null) return;
      firstAt = now();
      log(`parent process ${parent} exited without stopping this node (ros2 launch or ros2 run was killed): shutting down`);
      shutDown();
    }, pollMs);
    parentTimer.unref();
  }
  return () => {
    if (parentTimer !== undefined) clearInterval(parentTimer);
    for (const s of signals) proc.removeListener(s, listener);
  };
}
