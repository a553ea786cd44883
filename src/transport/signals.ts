/**
 * SIGINT/SIGTERM → a clean transport shutdown (onShutdown callbacks finalise the recording),
 * then exit. One Ctrl-C usually reaches the node more than once: the terminal signals the whole
 * process group, and `ros2 launch` (or `ros2 run`) forwards its own SIGINT to the node a few
 * milliseconds later. Repeats within `repeatGraceMs` of the first are therefore the same
 * request and ignored; a signal after that is a user insisting, and exits at once.
 */
import type { Transport } from "./port.js";

/** The slice of `process` this needs, injectable for tests. */
export interface SignalProcess {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  removeListener(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  exit(code: number): void;
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
  for (const s of signals) proc.on(s, listener);
  return () => {
    for (const s of signals) proc.removeListener(s, listener);
  };
}
