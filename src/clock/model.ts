/**
 * A sensor's clock model: maps its device stamps onto the common clock (the node clock).
 *
 * Modes: `estimate` (default; online lower-envelope fit of offset and drift, see envelope.ts),
 * `trust_header` (PTP-synced sensors: the stamp already is common-clock time), `arrival` (no
 * usable stamp: receive time minus the known latency), `fixed_offset` (a calibrated constant).
 *
 * corrected capture = stamp + envelope(stamp) − constant latency, where the envelope is the
 * smallest observed (receive − stamp): what is left after removing it is the constant latency,
 * which arrival times alone cannot reveal — it is configured (`latencyS`) or calibrated across
 * modalities (calibration.ts) and applied with setCalibratedLatency().
 */
import { z } from "zod";
import { DomainWatch, type ForeignDomain } from "./domain.js";
import { LowerEnvelope } from "./envelope.js";

export const ClockModeSchema = z.enum(["estimate", "trust_header", "arrival", "fixed_offset"]);
export type ClockMode = z.infer<typeof ClockModeSchema>;

export const ClockConfigSchema = z
  .object({
    mode: ClockModeSchema.default("estimate").describe("How stamps map to the common clock."),
    latencyS: z
      .number()
      .min(0)
      .max(10)
      .optional()
      .describe("Known constant capture-to-receive latency (s); omitted = unknown (0 until calibrated)."),
    fixedOffsetS: z.number().default(0).describe("fixed_offset mode: device clock minus common clock (s)."),
    windowS: z.number().min(1).max(600).default(20).describe("Sliding window of the envelope fit (s of device time)."),
    binS: z.number().min(0.001).max(1).default(0.05).describe("Envelope bin width (s): one minimum kept per bin bounds memory."),
    stepThresholdS: z.number().min(0.001).default(0.03).describe("Residual beyond which a sample suggests a clock step (s)."),
    stepConfirmSamples: z.int().min(1).max(100).default(5).describe("Consecutive suspicious samples that confirm a clock step."),
    stepConfirmS: z
      .number()
      .min(0)
      .max(10)
      .default(0.5)
      .describe("A run of samples ABOVE the envelope (later than usual: a backward clock step, or a transport stall) must also last this long (s of device time) to count as a step."),
    minDriftSpanS: z.number().min(0.1).default(5).describe("Device-time span needed before drift is fitted (before: last drift kept)."),
  })
  .strict();
export type ClockConfig = z.infer<typeof ClockConfigSchema>;
export type ClockConfigInput = z.input<typeof ClockConfigSchema>;

export type LatencySource = "configured" | "calibrated" | "none";

export interface ClockState {
  mode: ClockMode;
  /** Device clock minus common clock at the newest stamp (s), latency removed. */
  offsetS: number;
  /** Device clock rate error (ppm). */
  driftPpm: number;
  latencyS: number;
  latencySource: LatencySource;
  latencyUncertaintyS: number;
  /** 0…1: how well the envelope is supported (points and span). */
  confidence: number;
  samplesUsed: number;
  stepsDetected: number;
  observations: number;
  /** Samples dropped as impossible (below the envelope by more than the step threshold, not a step). */
  outliersDropped: number;
  /** Set when `estimate` found the stamps in another time domain (domain.ts) and fell back to arrival. */
  foreignDomain?: ForeignDomain;
}

export class ClockModel {
  readonly config: ClockConfig;
  readonly #envelope: LowerEnvelope;
  #origin: bigint | null = null;
  #latencyS: number;
  #latencySource: LatencySource;
  #latencyUncertaintyS = 0;
  #slope = 0;
  #intercept = 0;
  #lastT = 0;
  #steps = 0;
  #pendingT: number[] = [];
  #pendingD: number[] = [];
  #pendingSign = 0;
  /** Samples dropped as impossible (below the envelope, not confirmed as a step). */
  #outliers = 0;
  #observations = 0;
  #confidence = 0;
  #points = 0;
  /** After a step, drift is held at its last value until the new segment spans minDriftSpanS. */
  #heldSlope: number | null = null;
  /** estimate mode: watches whether the stamps are a clock at all; null once decided. */
  #watch: DomainWatch | null;
  #foreign: ForeignDomain | null = null;

  constructor(config: ClockConfigInput = {}) {
    this.config = ClockConfigSchema.parse(config);
    this.#envelope = new LowerEnvelope({ windowS: this.config.windowS, binS: this.config.binS });
    this.#latencyS = this.config.latencyS ?? 0;
    this.#latencySource = this.config.latencyS === undefined ? "none" : "configured";
    this.#watch = this.config.mode === "estimate" ? new DomainWatch() : null;
  }

  /** The mode in effect: `arrival` once `estimate` found the stamps in another time domain. */
  get mode(): ClockMode {
    return this.#foreign === null ? this.config.mode : "arrival";
  }

  /** Why the stamps were found not to be a clock (null: they are, or it is not known yet). */
  get foreignDomain(): ForeignDomain | null {
    return this.#foreign;
  }

  /** Cheap accessors for the per-message path (state() allocates). */
  get confidence(): number {
    return this.mode === "estimate" ? this.#confidence : 1;
  }

  get stepsDetected(): number {
    return this.#steps;
  }

  get latencyS(): number {
    return this.#latencyS;
  }

  get latencyKnown(): boolean {
    return this.#latencySource !== "none";
  }

  /** Applies a cross-modal latency estimate; ignored when the latency is configured. */
  setCalibratedLatency(latencyS: number, uncertaintyS: number): void {
    if (this.#latencySource === "configured") return;
    this.#latencyS = latencyS;
    this.#latencyUncertaintyS = uncertaintyS;
    this.#latencySource = "calibrated";
  }

  /** Feeds one (stamp, receive) pair and returns the corrected capture time (ns). */
  observe(stampNs: bigint, receiveNs: bigint): bigint {
    this.#observations++;
    const mode = this.mode;
    if (mode === "trust_header") return stampNs;
    if (mode === "arrival") return receiveNs - secondsToNs(this.#latencyS);
    if (mode === "fixed_offset") return stampNs - secondsToNs(this.config.fixedOffsetS + this.#latencyS);
    this.#origin ??= stampNs;
    const t = Number(stampNs - this.#origin) / 1e9;
    const d = Number(receiveNs - stampNs) / 1e9;
    const foreign = this.#watch?.observe(t, d) ?? null;
    if (foreign !== null) {
      // Not a clock: what the envelope made of it (steps, drift) is meaningless; arrival from now on.
      this.#foreign = foreign;
      this.#watch = null;
      this.#steps = 0;
      this.#envelope.clear();
      this.#pendingT = [];
      this.#pendingD = [];
      return receiveNs - secondsToNs(this.#latencyS);
    }
    if (this.#envelope.size === 0 || this.#acceptsAfterStepCheck(t, d)) {
      const bins = this.#envelope.size;
      this.#envelope.add(t, d);
      // The supporting line moves only when a bin is added or dropped, or a point falls below it
      // (by more than 20 µs: grazing points under jitter would refit nearly every message).
      if (this.#envelope.size !== bins || d < this.#intercept + this.#slope * t - 2e-5 || this.#points < 3) this.#refit();
    }
    this.#lastT = Math.max(this.#lastT, t);
    return this.correct(stampNs);
  }

  /** Maps a stamp with the current fit, without learning from it. */
  correct(stampNs: bigint): bigint {
    const mode = this.mode;
    // Stamps in another domain: a stamp alone maps by the typical offset seen (arrival needs the receive time).
    if (this.#foreign !== null) return stampNs - secondsToNs(this.#foreign.offsetS + this.#latencyS);
    if (mode === "trust_header") return stampNs;
    if (mode === "fixed_offset") return stampNs - secondsToNs(this.config.fixedOffsetS + this.#latencyS);
    if (this.#origin === null) return stampNs;
    const t = Number(stampNs - this.#origin) / 1e9;
    return stampNs + secondsToNs(this.#intercept + this.#slope * t - this.#latencyS);
  }

  state(): ClockState {
    const mode = this.mode;
    const offsetS =
      mode === "estimate"
        ? -(this.#intercept + this.#slope * this.#lastT) + this.#latencyS
        : mode === "fixed_offset"
          ? this.config.fixedOffsetS
          : (this.#foreign?.offsetS ?? 0);
    return {
      mode,
      offsetS,
      // d = L − err(t): the slope of d is minus the drift (exactly −drift/(1+drift), < 1e-7 apart here).
      driftPpm: mode === "estimate" ? -this.#slope * 1e6 : 0,
      latencyS: this.#latencyS,
      latencySource: this.#latencySource,
      latencyUncertaintyS: this.#latencyUncertaintyS,
      confidence: mode === "estimate" ? this.#confidence : 1,
      samplesUsed: mode === "estimate" ? this.#points : this.#observations,
      stepsDetected: this.#steps,
      observations: this.#observations,
      outliersDropped: this.#outliers,
      ...(this.#foreign === null ? {} : { foreignDomain: this.#foreign }),
    };
  }

  /**
   * Jitter only ever adds latency, so a high sample alone is normal; a run of samples off the
   * envelope — or far below it (negative latency) — means the device clock jumped. Suspicious
   * samples are held back from the fit (one sample below the envelope would tilt it) until they
   * are confirmed as a step (the fit restarts from them) or refuted (they join the fit).
   */
  #acceptsAfterStepCheck(t: number, d: number): boolean {
    const residual = d - (this.#intercept + this.#slope * t);
    const sign = residual > 0 ? 1 : -1;
    if (Math.abs(residual) <= this.config.stepThresholdS || (this.#pendingT.length > 0 && sign !== this.#pendingSign)) {
      // Refuted: late samples (a stall) join the fit, they are above it anyway; samples below it
      // (negative latency: a glitch) are dropped — one would drag the envelope down for a window.
      if (this.#pendingSign > 0) for (let i = 0; i < this.#pendingT.length; i++) this.#envelope.add(this.#pendingT[i]!, this.#pendingD[i]!);
      else this.#outliers += this.#pendingT.length;
      this.#pendingT = [];
      this.#pendingD = [];
      if (Math.abs(residual) <= this.config.stepThresholdS) return true;
    }
    this.#pendingSign = sign;
    this.#pendingT.push(t);
    this.#pendingD.push(d);
    if (this.#pendingT.length < this.config.stepConfirmSamples) return false;
    // Later than usual for a while is also what a transport stall looks like: it must last.
    if (sign > 0 && this.#pendingT.length < 4096 && this.#pendingT[this.#pendingT.length - 1]! - this.#pendingT[0]! < this.config.stepConfirmS) return false;
    this.#steps++;
    this.#heldSlope = this.#slope;
    this.#envelope.clear();
    for (let i = 0; i < this.#pendingT.length; i++) this.#envelope.add(this.#pendingT[i]!, this.#pendingD[i]!);
    this.#pendingT = [];
    this.#pendingD = [];
    this.#refit();
    return false;
  }

  #refit(): void {
    let line = this.#envelope.line(this.#heldSlope ?? undefined);
    if (line === null) return;
    if (this.#heldSlope !== null && line.spanS >= this.config.minDriftSpanS) {
      this.#heldSlope = null;
      line = this.#envelope.line() ?? line;
    } else if (this.#heldSlope === null && line.spanS < this.config.minDriftSpanS) {
      // Too short a span to tell drift from jitter: fit the offset only.
      line = this.#envelope.line(0) ?? line;
    }
    this.#intercept = line.intercept;
    this.#slope = line.slope;
    this.#points = line.points;
    this.#confidence = Math.min(1, line.points / 20) * Math.min(1, line.spanS / this.config.minDriftSpanS);
  }
}

function secondsToNs(seconds: number): bigint {
  return BigInt(Math.round(seconds * 1e9));
}
