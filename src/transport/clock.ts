/**
 * Node clocks for the embedded transport: wall-clock system time, and a simulated clock the
 * simulator (or a test) drives. The rclnodejs adapter has its own clock (ROS time, /clock).
 */
import type { NodeClock } from "./port.js";

/**
 * Epoch time with nanosecond resolution that never goes backward within the process.
 *
 * `performance.timeOrigin` is the epoch (ms, with µs fraction) at process start and
 * `performance.now()` the monotonic time since then, so their sum is wall time that an NTP
 * step cannot make jump backward under a running recording. Every process on a host gets the
 * same origin to within a microsecond, which keeps split nodes comparable.
 */
export class SystemClock implements NodeClock {
  readonly kind = "system" as const;
  readonly #originNs: bigint;
  #last = 0n;

  constructor() {
    // timeOrigin·1000 (µs since the epoch, ~1.7e15) is an exact integer in a double.
    this.#originNs = BigInt(Math.round(performance.timeOrigin * 1000)) * 1000n;
  }

  now(): bigint {
    const t = this.#originNs + BigInt(Math.round(performance.now() * 1e6));
    // performance.now() is monotonic, but rounding two close readings could still tie.
    if (t > this.#last) this.#last = t;
    return this.#last;
  }
}

/** What a SimulatedClock does when asked to move backward. */
export type BackwardPolicy = "throw" | "ignore";

export interface SimulatedClockOptions {
  /** Start time (ns since the epoch). Default 0. */
  startNs?: bigint;
  /** `throw` (default) refuses a backward set; `ignore` keeps the current time. */
  onBackward?: BackwardPolicy;
}

/**
 * A clock that only moves when told to: the simulator sets it to each simulated instant before
 * publishing, so receive times are exact and a run is reproducible. Monotonic like ROS time
 * under use_sim_time with a well-behaved /clock publisher.
 */
export class SimulatedClock implements NodeClock {
  readonly kind = "simulated" as const;
  #now: bigint;
  readonly #onBackward: BackwardPolicy;

  constructor(options: SimulatedClockOptions = {}) {
    this.#now = options.startNs ?? 0n;
    this.#onBackward = options.onBackward ?? "throw";
  }

  now(): bigint {
    return this.#now;
  }

  /** Sets the time (ns). Moving backward throws a RangeError unless `onBackward: "ignore"`. */
  set(ns: bigint): void {
    if (ns < this.#now) {
      if (this.#onBackward === "ignore") return;
      throw new RangeError(`SimulatedClock.set: ${ns} ns is before the current time ${this.#now} ns; the clock is monotonic`);
    }
    this.#now = ns;
  }

  /** Moves the time forward by `deltaNs` (≥ 0). */
  advance(deltaNs: bigint): void {
    if (deltaNs < 0n) throw new RangeError(`SimulatedClock.advance: delta ${deltaNs} ns is negative; the clock is monotonic`);
    this.#now += deltaNs;
  }
}
