/**
 * SIGINT/SIGTERM → a clean transport shutdown (onShutdown callbacks finalise the recording),
 * then exit. A second signal while shutting down exits at once, as ROS users expect from
 * pressing Ctrl-C twice.
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
}

const FORCED_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

/** Installs the handlers; returns a function that removes them. */
export function installShutdownSignals(transport: Pick<Transport, "shutdown">, options: ShutdownSignalOptions = {}): () => void {
  const proc: SignalProcess = options.process ?? process;
  const signals = options.signals ?? ["SIGINT", "SIGTERM"];
  const exit = options.exit ?? true;
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  let stopping = false;
  const listener = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log(`${signal} again: exiting without finishing the shutdown`);
      proc.exit(FORCED_EXIT[signal] ?? 1);
      return;
    }
    stopping = true;
    log(`${signal}: shutting down (send it again to force)`);
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
