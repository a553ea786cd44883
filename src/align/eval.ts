/**
 * Alignment accuracy against the simulator's ground truth: for every sensor message, the error
 * |corrected − true capture time|, matched by (topic, device stamp) — the stamp a device wrote
 * is unique within its topic, so no receive-order assumptions are needed.
 *
 * Sections: `syncbag eval` prints one section per concern (alignment here, suggestions in
 * src/suggest); each turns a truth file and a recording's messages into rows and JSON.
 */
import type { TruthFile } from "../sim/truth.js";
import { SampleFlag } from "./types.js";
import { formatUnconverged, UnconvergedCounter, type UnconvergedSpan } from "./unconverged.js";

export interface AlignmentObservation {
  topic: string;
  stampNs: bigint;
  correctedNs: bigint;
}

export interface SensorAccuracy {
  sensor: string;
  topic: string;
  latencyKnown: boolean;
  /** The bound the sensor is held to (ms): 2 with a known latency, 5 when it must be calibrated. */
  boundMs: number;
  /** Messages compared after the warm-up / matched at all. */
  compared: number;
  matched: number;
  unmatched: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Seconds from the drive start after which every error stayed within the bound (null: never). */
  convergedAfterS: number | null;
  withinBound: boolean;
  /** Every matched message from the first to the last (warm-up 0, calibration not waited for): what a user of the recording gets. */
  whole: WholeDriveAccuracy;
}

export interface WholeDriveAccuracy {
  compared: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Messages beyond the bound, and their share of `compared`. */
  outsideBound: number;
  outsideShare: number;
  withinBound: boolean;
}

export interface AlignmentEvaluation {
  warmupS: number;
  sensors: SensorAccuracy[];
}

export interface EvaluateOptions {
  /** Errors before this many seconds of drive are not counted (convergence is reported apart). */
  warmupS?: number;
  /** Per-topic start (s from drive start) overriding the warm-up, e.g. after a calibration converged. */
  fromS?: Record<string, number>;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export function evaluateAlignment(truth: TruthFile, observations: Iterable<AlignmentObservation>, options: EvaluateOptions = {}): AlignmentEvaluation {
  const warmupS = options.warmupS ?? 10;
  const startNs = BigInt(truth.startNs);
  const sensors = truth.sensors;
  const lookup = new Map<string, Map<bigint, bigint>>();
  for (const sensor of sensors) {
    const messages = truth.messages[sensor.topic];
    if (messages === undefined) continue;
    const byStamp = new Map<bigint, bigint>();
    for (let i = 0; i < messages.stampNs.length; i++) byStamp.set(BigInt(messages.stampNs[i]!), BigInt(messages.captureNs[i]!));
    lookup.set(sensor.topic, byStamp);
  }
  const errors = new Map<string, { t: number; e: number }[]>();
  const unmatched = new Map<string, number>();
  for (const observation of observations) {
    const byStamp = lookup.get(observation.topic);
    if (byStamp === undefined) continue;
    const capture = byStamp.get(observation.stampNs);
    if (capture === undefined) {
      unmatched.set(observation.topic, (unmatched.get(observation.topic) ?? 0) + 1);
      continue;
    }
    let list = errors.get(observation.topic);
    if (list === undefined) errors.set(observation.topic, (list = []));
    list.push({ t: Number(capture - startNs) / 1e9, e: Math.abs(Number(observation.correctedNs - capture)) / 1e6 });
  }
  const result: SensorAccuracy[] = [];
  for (const sensor of sensors) {
    const list = errors.get(sensor.topic) ?? [];
    const boundMs = sensor.clock.latencyKnown ? 2 : 5;
    const from = options.fromS?.[sensor.topic] ?? warmupS;
    const after = list.filter((x) => x.t >= from).map((x) => x.e).sort((a, b) => a - b);
    let convergedAfterS: number | null = 0;
    const byTime = [...list].sort((a, b) => a.t - b.t);
    for (const x of byTime) if (x.e > boundMs) convergedAfterS = x.t;
    if (byTime.length > 0 && byTime[byTime.length - 1]!.e > boundMs) convergedAfterS = null;
    const p99 = quantile(after, 0.99);
    const all = list.map((x) => x.e).sort((a, b) => a - b);
    let outsideBound = 0;
    for (let i = all.length - 1; i >= 0 && all[i]! > boundMs; i--) outsideBound++;
    const whole: WholeDriveAccuracy = {
      compared: all.length,
      p50Ms: quantile(all, 0.5),
      p99Ms: quantile(all, 0.99),
      maxMs: all.length > 0 ? all[all.length - 1]! : NaN,
      outsideBound,
      outsideShare: all.length > 0 ? outsideBound / all.length : 0,
      withinBound: all.length > 0 && quantile(all, 0.99) <= boundMs,
    };
    result.push({
      sensor: sensor.name,
      topic: sensor.topic,
      latencyKnown: sensor.clock.latencyKnown,
      boundMs,
      compared: after.length,
      matched: list.length,
      unmatched: unmatched.get(sensor.topic) ?? 0,
      p50Ms: quantile(after, 0.5),
      p99Ms: p99,
      maxMs: after.length > 0 ? after[after.length - 1]! : NaN,
      convergedAfterS,
      withinBound: after.length > 0 && p99 <= boundMs,
      whole,
    });
  }
  return { warmupS, sensors: result };
}

/**
 * The alignment verdict: every sensor's p99 within its bound, over the whole drive ("whole") or
 * after the warm-up ("after-warmup"). A sensor with no message compared is not judged.
 */
export function alignmentOk(evaluation: AlignmentEvaluation, judge: "whole" | "after-warmup" = "whole"): boolean {
  return evaluation.sensors.every((s) => (judge === "whole" ? s.whole.compared === 0 || s.whole.withinBound : s.compared === 0 || s.withinBound));
}

export function formatAlignmentTable(evaluation: AlignmentEvaluation): string {
  const lines = [
    `Alignment accuracy |corrected − true capture|: whole drive (every message) | after ${evaluation.warmupS} s warm-up`,
    "sensor                 known |    all  p50 ms  p99 ms   max ms  >bound   ok | compared  p50 ms  p99 ms  max ms  bound  converged  ok",
  ];
  for (const s of evaluation.sensors) {
    lines.push(
      [
        s.sensor.padEnd(22),
        (s.latencyKnown ? "yes" : "no").padEnd(5),
        "|",
        String(s.whole.compared).padStart(6),
        s.whole.p50Ms.toFixed(3).padStart(7),
        s.whole.p99Ms.toFixed(3).padStart(7),
        s.whole.maxMs.toFixed(3).padStart(8),
        `${(s.whole.outsideShare * 100).toFixed(1)}%`.padStart(7),
        s.whole.compared === 0 ? "   -" : s.whole.withinBound ? " yes" : "  NO",
        "|",
        String(s.compared).padStart(8),
        s.p50Ms.toFixed(3).padStart(7),
        s.p99Ms.toFixed(3).padStart(7),
        s.maxMs.toFixed(3).padStart(7),
        `${s.boundMs}`.padStart(6),
        (s.convergedAfterS === null ? "never" : `${s.convergedAfterS.toFixed(1)} s`).padStart(10),
        s.withinBound ? "  yes" : "  NO",
      ].join(" "),
    );
  }
  return lines.join("\n");
}

/**
 * One concern of `syncbag eval`: it sees every message of the recording once, in file order, and
 * then reports. The command runs a list of sections over one pass of the file; a new concern
 * (e.g. label suggestions, src/suggest) is one more section in that list.
 */
export interface EvalMessage {
  topic: string;
  /** pkg/Type (normalised). */
  type: string;
  data: Uint8Array;
  /** MCAP log_time (syncbag: receive time) and publish_time (syncbag: corrected capture time). */
  logTimeNs: bigint;
  publishTimeNs: bigint;
}

export interface EvalSectionResult {
  /** Key of the section in the JSON output. */
  name: string;
  /** False when the recording misses this section's bounds (the command exits 2). */
  ok: boolean;
  /** Human-readable table. */
  text: string;
  /** JSON-serialisable form (bigints are written as strings). */
  json: unknown;
}

export interface EvalSection {
  readonly name: string;
  add(message: EvalMessage): void;
  finish(): EvalSectionResult;
}

export interface EvalSectionOptions {
  warmupS?: number;
  /**
   * What the verdict (`ok`, the exit code) is taken on: "whole" (default) every message from the
   * first to the last, what a user of the recording gets; "after-warmup" the figure after the
   * warm-up (and after the latency calibration applied), the online models' steady state.
   */
  judge?: "whole" | "after-warmup";
  /** The recording's `minConfidence` (alignment config): below it a clock state is unconverged. */
  minConfidence?: number;
}

export interface FrameSummary {
  frames: number;
  samples: number;
  /** Samples with any flag other than INTERPOLATED. */
  flaggedSamples: number;
  /** Samples carrying each flag (by SampleFlag name, INTERPOLATED included); a sample with two flags counts twice. */
  byFlag: Record<string, number>;
  /**
   * Flagged samples by their set of flags ("MISSING", "OUT_OF_TOLERANCE+STALE"): each counted once,
   * so the counts add up to flaggedSamples. INTERPOLATED is how a value was made, not a flag: left out.
   */
  flaggedBy: Record<string, number>;
  /** Samples interpolated between two messages (flagged or not). */
  interpolated: number;
  maxAbsResidualMs: number;
}

export interface CalibrationSummary {
  sensor: string;
  latencyS: number;
  uncertaintyS: number;
  source: string;
}

export interface AlignmentSectionResult {
  alignment: AlignmentEvaluation;
  frames: FrameSummary;
  /** Latest calibrated latency per sensor, from the SensorClockState channel. */
  calibrations: CalibrationSummary[];
  /** Per sensor: messages stamped while its clock model was not converged (from the SensorClockState channel). */
  unconverged: UnconvergedSpan[];
  /** What `ok` was judged on. */
  judge: "whole" | "after-warmup";
}

/**
 * Alignment section: |publish_time − true capture| per sensor message (the recorder writes the
 * corrected capture time as publish_time and leaves the bytes untouched, so the device stamp is
 * read back from them), AlignedFrame flags, and calibrated latencies. A sensor whose latency had
 * to be calibrated is judged from the moment the calibration applied (or the warm-up, if later).
 * `readStamp` is injected (the messages layer's in-place header reader) so this stays I/O-free.
 */
export class AlignmentEvalSection implements EvalSection {
  readonly name = "alignment";
  readonly #truth: TruthFile;
  readonly #warmupS: number;
  readonly #readStamp: (type: string, data: Uint8Array) => bigint;
  readonly #decode: (type: string, data: Uint8Array) => unknown;
  readonly #sensorTopics: Set<string>;
  readonly #observations: AlignmentObservation[] = [];
  readonly #frames: FrameSummary = { frames: 0, samples: 0, flaggedSamples: 0, byFlag: Object.fromEntries(Object.keys(SampleFlag).map((k) => [k, 0])), flaggedBy: {}, interpolated: 0, maxAbsResidualMs: 0 };
  readonly #calibrations = new Map<string, CalibrationSummary>();
  readonly #firstCalibrated = new Map<string, bigint>();
  readonly #judge: "whole" | "after-warmup";
  readonly #unconverged: UnconvergedCounter;
  readonly #minConfidence: number;
  #skipped = 0;

  constructor(truth: TruthFile, io: { readStamp: (type: string, data: Uint8Array) => bigint; decode: (type: string, data: Uint8Array) => unknown }, options: EvalSectionOptions = {}) {
    this.#truth = truth;
    this.#warmupS = options.warmupS ?? 10;
    this.#judge = options.judge ?? "whole";
    this.#unconverged = new UnconvergedCounter();
    this.#minConfidence = options.minConfidence ?? 0.5;
    this.#readStamp = io.readStamp;
    this.#decode = io.decode;
    this.#sensorTopics = new Set(truth.sensors.map((s) => s.topic));
  }

  /** Messages that could not be read (malformed): counted, never fatal. */
  get skipped(): number {
    return this.#skipped;
  }

  add(message: EvalMessage): void {
    try {
      if (this.#sensorTopics.has(message.topic)) {
        this.#unconverged.message(message.topic, message.logTimeNs);
        this.#observations.push({ topic: message.topic, stampNs: this.#readStamp(message.type, message.data), correctedNs: message.publishTimeNs });
      } else if (message.type === "syncbag/AlignedFrame") {
        const frame = this.#decode(message.type, message.data) as { samples: { flags: number }[]; max_abs_residual: number };
        this.#frames.frames++;
        this.#frames.samples += frame.samples.length;
        for (const sample of frame.samples) {
          const flags = sample.flags & ~SampleFlag.INTERPOLATED;
          if ((sample.flags & SampleFlag.INTERPOLATED) !== 0) this.#frames.interpolated++;
          if (flags !== 0) {
            this.#frames.flaggedSamples++;
            const key = Object.entries(SampleFlag)
              .filter(([, bit]) => (flags & bit) !== 0)
              .map(([name]) => name)
              .join("+");
            this.#frames.flaggedBy[key] = (this.#frames.flaggedBy[key] ?? 0) + 1;
          }
          for (const [name, bit] of Object.entries(SampleFlag)) if ((sample.flags & bit) !== 0) this.#frames.byFlag[name]!++;
        }
        this.#frames.maxAbsResidualMs = Math.max(this.#frames.maxAbsResidualMs, frame.max_abs_residual * 1000);
      } else if (message.type === "syncbag/SensorClockState") {
        const state = this.#decode(message.type, message.data) as { sensor: string; topic: string; mode: string; confidence: number; latency: number; latency_uncertainty: number; latency_source: string };
        this.#unconverged.state(state);
        this.#calibrations.set(state.sensor, { sensor: state.sensor, latencyS: state.latency, uncertaintyS: state.latency_uncertainty, source: state.latency_source });
        if (state.latency_source === "calibrated" && !this.#firstCalibrated.has(state.topic)) this.#firstCalibrated.set(state.topic, message.logTimeNs);
      }
    } catch {
      this.#skipped++;
    }
  }

  result(): AlignmentSectionResult {
    const startNs = BigInt(this.#truth.startNs);
    const fromS: Record<string, number> = {};
    for (const [topic, at] of this.#firstCalibrated) fromS[topic] = Math.max(this.#warmupS, Number(at - startNs) / 1e9);
    return {
      alignment: evaluateAlignment(this.#truth, this.#observations, { warmupS: this.#warmupS, fromS }),
      frames: { ...this.#frames, byFlag: { ...this.#frames.byFlag }, flaggedBy: { ...this.#frames.flaggedBy } },
      calibrations: [...this.#calibrations.values()].filter((c) => c.source === "calibrated"),
      unconverged: this.#unconverged.result(this.#minConfidence),
      judge: this.#judge,
    };
  }

  finish(): EvalSectionResult {
    const result = this.result();
    const f = result.frames;
    // One entry per set of flags, so the breakdown adds up to the total.
    const byFlag = Object.entries(f.flaggedBy)
      .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
      .map(([name, n]) => `${name} ${n}`)
      .join(", ");
    const lines = [
      formatAlignmentTable(result.alignment),
      "",
      `frames ${f.frames}, samples ${f.samples}, flagged samples ${f.flaggedSamples}${byFlag === "" ? "" : ` (${byFlag})`}, interpolated ${f.interpolated} (not a flag), largest |residual| ${f.maxAbsResidualMs.toFixed(1)} ms`,
    ];
    for (const c of result.calibrations) lines.push(`calibrated latency: ${c.sensor} ${(c.latencyS * 1000).toFixed(2)} ± ${(c.uncertaintyS * 1000).toFixed(2)} ms`);
    const origin = BigInt(this.#truth.startNs);
    if (result.unconverged.length === 0) lines.push("stamped before the clock model converged: unknown (no SensorClockState in the recording)");
    else if (result.unconverged.every((u) => u.messages === 0)) lines.push("stamped before the clock model converged: none");
    else {
      lines.push("stamped before the clock model converged (per clock state, s from drive start):");
      for (const u of result.unconverged) if (u.messages > 0) lines.push(`  ${u.sensor.padEnd(22)} ${formatUnconverged(u, origin)}`);
    }
    const ok = alignmentOk(result.alignment, this.#judge);
    lines.push(`verdict (${this.#judge === "whole" ? "whole drive, p99 within bound" : `after ${this.#warmupS} s warm-up, p99 within bound`}): ${ok ? "ok" : "NOT ok"}`);
    return { name: this.name, ok, text: lines.join("\n"), json: result };
  }
}
