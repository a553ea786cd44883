/**
 * Alignment accuracy against the simulator's ground truth: for every sensor message, the error
 * |corrected − true capture time|, matched by (topic, device stamp) — the stamp a device wrote
 * is unique within its topic, so no receive-order assumptions are needed.
 *
 * Sections: `syncbag eval` prints one section per concern (alignment here, suggestions in
 * src/suggest); each turns a truth file and a recording's messages into rows and JSON.
 */
import type { TruthFile } from "../sim/truth.js";

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
    });
  }
  return { warmupS, sensors: result };
}

export function formatAlignmentTable(evaluation: AlignmentEvaluation): string {
  const lines = [
    `Alignment accuracy |corrected − true capture| after ${evaluation.warmupS} s warm-up`,
    "sensor                 known  compared     p50 ms     p99 ms     max ms  bound  converged  ok",
  ];
  for (const s of evaluation.sensors) {
    lines.push(
      [
        s.sensor.padEnd(22),
        (s.latencyKnown ? "yes" : "no").padEnd(5),
        String(s.compared).padStart(9),
        s.p50Ms.toFixed(3).padStart(10),
        s.p99Ms.toFixed(3).padStart(10),
        s.maxMs.toFixed(3).padStart(10),
        `${s.boundMs}`.padStart(6),
        (s.convergedAfterS === null ? "never" : `${s.convergedAfterS.toFixed(1)} s`).padStart(10),
        s.withinBound ? "  yes" : "  NO",
      ].join(" "),
    );
  }
  return lines.join("\n");
}
