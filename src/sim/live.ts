/**
 * Live output: publishes a simulated drive on a transport, paced so that each message goes out when
 * the common clock reaches its receive time, at real time × speed. The simulated clock is set to the
 * message's receive time just before it is published, so a node on a simulated clock sees exactly
 * the receive times the truth file records. speed = Infinity publishes as fast as possible (yielding
 * to the event loop regularly so subscribers run).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { SimDrive } from "./drive.js";
import type { TruthFile } from "./truth.js";

export interface LiveClock {
  set(ns: bigint): void;
}

export interface RunLiveOptions {
  drive: SimDrive;
  publish(topic: string, type: string, data: Uint8Array): void;
  clock: LiveClock;
  /** Playback speed relative to real time (default 1); Infinity = as fast as possible. */
  speed?: number;
  signal?: AbortSignal;
  /** Wall clock in ms (injected for tests); default performance.now. */
  now?: () => number;
}

export interface RunLiveResult {
  messages: number;
  /** Largest lateness of a publish behind its paced wall time (ms): > 0 means generation could not keep up. */
  maxLateMs: number;
  wallMs: number;
  /** null when aborted. */
  truth: TruthFile | null;
  aborted: boolean;
}

export async function runLive(options: RunLiveOptions): Promise<RunLiveResult> {
  const { drive, publish, clock, signal } = options;
  const speed = options.speed ?? 1;
  if (!(speed > 0)) throw new RangeError(`runLive: speed must be > 0 (got ${speed})`);
  const now = options.now ?? (() => performance.now());
  const wall0 = now();
  let messages = 0;
  let maxLateMs = 0;
  let aborted = false;
  const iterator = drive.messages();
  for (const m of iterator) {
    if (signal?.aborted) {
      aborted = true;
      break;
    }
    if (Number.isFinite(speed)) {
      const due = wall0 + Number(m.receiveNs - drive.startNs) / 1e6 / speed;
      const wait = due - now();
      if (wait > 1) await sleep(wait);
      else {
        maxLateMs = Math.max(maxLateMs, -wait);
        // Behind schedule: still let subscribers run, or they would read one topic's whole backlog
        // after another (each subscription drains on its own) instead of the messages in order.
        if (messages % 64 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } else if (messages % 64 === 0) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    clock.set(m.receiveNs);
    publish(m.topic, m.type, m.data);
    messages++;
  }
  // An aborted drive has no complete truth (its remaining messages were never generated).
  return { messages, maxLateMs, wallMs: now() - wall0, truth: aborted ? null : drive.truth(), aborted };
}
