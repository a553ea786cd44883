/**
 * A sensor's clock faults applied to its captures. Common clock = simulator true time (ns).
 *   device stamp = capture + offsetS + driftPpm·1e-6·(capture − startNs) (+ each step's stepS once capture ≥ its atNs)
 *   send         = capture + latencyFixedS + jitter   (jitter ≥ 0, exponential with mean jitterS, capped at 8·jitterS)
 *   receive      = send, or later by 1.05–1.8 periods for a message delivered out of order
 * Every capture draws the same four numbers whether or not it is dropped, so a sensor's faults do
 * not depend on the outcome of earlier draws.
 */
import { clockSteps, type ClockConfig } from "./rig.js";
import type { TrueClock } from "./truth.js";
import type { Prng } from "./prng.js";

export interface ClockedCapture {
  captureNs: bigint;
  stampNs: bigint;
  sendNs: bigint;
  receiveNs: bigint;
  dropped: boolean;
  reordered: boolean;
}

export class SensorClock {
  readonly #cfg: ClockConfig;
  readonly #startNs: bigint;
  /** The steps in time order, at absolute true times. */
  readonly #steps: { atNs: bigint; stepS: number }[];
  readonly #periodS: number;
  readonly #rng: Prng;

  constructor(cfg: ClockConfig, startNs: bigint, periodS: number, rng: Prng) {
    this.#cfg = cfg;
    this.#startNs = startNs;
    this.#steps = clockSteps(cfg).map((step) => ({ atNs: startNs + BigInt(Math.round(step.atS * 1e9)), stepS: step.stepS }));
    this.#periodS = periodS;
    this.#rng = rng;
  }

  /** The device stamp for a true capture time. */
  stamp(captureNs: bigint): bigint {
    const c = this.#cfg;
    const elapsed = Number(captureNs - this.#startNs) / 1e9;
    let offset = c.offsetS + c.driftPpm * 1e-6 * elapsed;
    for (const step of this.#steps) if (captureNs >= step.atNs) offset += step.stepS;
    return captureNs + BigInt(Math.round(offset * 1e9));
  }

  /**
   * A backward clock step can make a later stamp equal an earlier one; the truth file promises
   * unique stamps per topic, so a collision is nudged by 1 ns (well inside any estimator's noise).
   */
  readonly #issued = new Set<bigint>();

  apply(captureNs: bigint): ClockedCapture {
    const c = this.#cfg;
    const uDrop = this.#rng.float();
    const uJitter = this.#rng.float();
    const uReorder = this.#rng.float();
    const uDelay = this.#rng.float();
    const jitter = Math.min(8 * c.jitterS, -c.jitterS * Math.log(1 - uJitter));
    const sendNs = captureNs + BigInt(Math.round((c.latencyFixedS + jitter) * 1e9));
    const reordered = uReorder < c.reorderRate;
    const receiveNs = reordered ? sendNs + BigInt(Math.round(this.#periodS * (1.05 + 0.75 * uDelay) * 1e9)) : sendNs;
    let stampNs = this.stamp(captureNs);
    if (this.#steps.some((step) => step.stepS < 0)) {
      while (this.#issued.has(stampNs)) stampNs += 1n;
      this.#issued.add(stampNs);
    }
    return { captureNs, stampNs, sendNs, receiveNs, dropped: uDrop < c.dropRate, reordered };
  }

  /** The latest a message can arrive after its capture (s): bounds how long the merge must wait. */
  maxDelayS(): number {
    return this.#cfg.latencyFixedS + 8 * this.#cfg.jitterS + 1.8 * this.#periodS;
  }

  truth(): TrueClock {
    const c = this.#cfg;
    return {
      offsetS: c.offsetS,
      driftPpm: c.driftPpm,
      latencyFixedS: c.latencyFixedS,
      jitterS: c.jitterS,
      latencyKnown: c.latencyKnown,
      dropRate: c.dropRate,
      reorderRate: c.reorderRate,
      step: this.#steps.length === 0 ? null : { atNs: this.#steps[0]!.atNs.toString(), stepS: this.#steps[0]!.stepS },
      // Written only with more than one step: a truth of one step or none stays as it was (committed fleet).
      ...(this.#steps.length > 1 ? { steps: this.#steps.map((step) => ({ atNs: step.atNs.toString(), stepS: step.stepS })) } : {}),
    };
  }
}
