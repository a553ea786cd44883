/**
 * Which messages of a recording were stamped before their sensor's clock model converged, read
 * back from the file: the recorder writes each sensor's SensorClockState (every
 * `clockStatePeriodS` and at once on a step or a calibration) on the same clock as the messages'
 * log times, so a message is judged by the last state written before it. Resolution is therefore
 * one clock-state period (1 s by default). "Unconverged" is the stage's own rule: confidence
 * below `minConfidence`, or a latency still unknown in a mode that needs it (estimate, arrival).
 * A hindsight conversion writes confidence 1 and a calibrated or configured latency from the first
 * state, so its messages never count (unless a latency could not be calibrated at all, which is
 * then the truth).
 */

export interface ClockStateView {
  sensor: string;
  topic: string;
  mode: string;
  confidence: number;
  latency_source: string;
}

export interface UnconvergedSpan {
  sensor: string;
  topic: string;
  /** Messages stamped while the model was not converged, and their first/last log time (ns). */
  messages: number;
  firstNs: bigint | null;
  lastNs: bigint | null;
}

/** The stage's convergence rule (src/align/stage.ts) applied to a written clock state. */
export function stateConverged(state: ClockStateView, minConfidence: number): boolean {
  const latencyPending = state.latency_source === "none" && (state.mode === "estimate" || state.mode === "arrival");
  return state.confidence >= minConfidence && !latencyPending;
}

interface Bucket {
  messages: number;
  firstNs: bigint | null;
  lastNs: bigint | null;
}

/**
 * Streaming counter: feed clock states and messages in file order. Per topic it keeps one count
 * per clock state (the messages after it, until the next): O(states) memory, 1 Hz per sensor, so
 * the verdict can wait for a `minConfidence` read later (a scanned file's metadata comes last).
 * Messages before a sensor's first state are judged by it: an online model's confidence only
 * grows until a step (and with the defaults it is still below `minConfidence` at the first state,
 * 1 s in), while a hindsight model's first state is already converged.
 */
export class UnconvergedCounter {
  /** Per topic: the states seen, and after each (index + 1; 0 = before the first) a bucket. */
  readonly #byTopic = new Map<string, { states: ClockStateView[]; buckets: Bucket[] }>();

  #entry(topic: string): { states: ClockStateView[]; buckets: Bucket[] } {
    let entry = this.#byTopic.get(topic);
    if (entry === undefined) this.#byTopic.set(topic, (entry = { states: [], buckets: [{ messages: 0, firstNs: null, lastNs: null }] }));
    return entry;
  }

  state(state: ClockStateView): void {
    const entry = this.#entry(state.topic);
    entry.states.push({ sensor: state.sensor, topic: state.topic, mode: state.mode, confidence: state.confidence, latency_source: state.latency_source });
    entry.buckets.push({ messages: 0, firstNs: null, lastNs: null });
  }

  message(topic: string, logTimeNs: bigint): void {
    const entry = this.#entry(topic);
    const b = entry.buckets[entry.buckets.length - 1]!;
    b.messages++;
    if (b.firstNs === null || logTimeNs < b.firstNs) b.firstNs = logTimeNs;
    if (b.lastNs === null || logTimeNs > b.lastNs) b.lastNs = logTimeNs;
  }

  /** One row per sensor that has written a clock state, by sensor name. */
  result(minConfidence = 0.5): UnconvergedSpan[] {
    const rows: UnconvergedSpan[] = [];
    for (const [topic, { states, buckets }] of this.#byTopic) {
      if (states.length === 0) continue;
      const span: UnconvergedSpan = { sensor: states[0]!.sensor, topic, messages: 0, firstNs: null, lastNs: null };
      const first = states[0]!;
      buckets.forEach((b, i) => {
        const unconverged = i === 0 ? !stateConverged(first, minConfidence) : !stateConverged(states[i - 1]!, minConfidence);
        if (!unconverged || b.messages === 0) return;
        span.messages += b.messages;
        if (span.firstNs === null || b.firstNs! < span.firstNs) span.firstNs = b.firstNs;
        if (span.lastNs === null || b.lastNs! > span.lastNs) span.lastNs = b.lastNs;
      });
      rows.push(span);
    }
    return rows.sort((a, b) => a.sensor.localeCompare(b.sensor));
  }
}

/** "camera_front 12 messages, 0.00–0.93 s" relative to `originNs`; "none" when 0. */
export function formatUnconverged(span: UnconvergedSpan, originNs: bigint): string {
  if (span.messages === 0 || span.firstNs === null || span.lastNs === null) return "none";
  const s = (t: bigint): string => (Number(t - originNs) / 1e9).toFixed(2);
  return `${span.messages} messages, ${s(span.firstNs)}–${s(span.lastNs)} s`;
}

/**
 * The same rule as {@link UnconvergedCounter} as log-time intervals, for a reader that can count
 * a topic's messages in a time range through the file's index without reading the rest: per
 * sensor topic, half-open [fromNs, toNs) ranges (null: open end) in which messages count as
 * unconverged. `states` in log-time order.
 */
export function unconvergedIntervals(states: readonly { logTimeNs: bigint; state: ClockStateView }[], minConfidence = 0.5): Map<string, { sensor: string; intervals: { fromNs: bigint | null; toNs: bigint | null }[] }> {
  const byTopic = new Map<string, { logTimeNs: bigint; state: ClockStateView }[]>();
  for (const s of states) {
    let list = byTopic.get(s.state.topic);
    if (list === undefined) byTopic.set(s.state.topic, (list = []));
    list.push(s);
  }
  const result = new Map<string, { sensor: string; intervals: { fromNs: bigint | null; toNs: bigint | null }[] }>();
  for (const [topic, list] of byTopic) {
    const intervals: { fromNs: bigint | null; toNs: bigint | null }[] = [];
    const push = (fromNs: bigint | null, toNs: bigint | null): void => {
      const last = intervals[intervals.length - 1];
      if (last !== undefined && last.toNs !== null && last.toNs === fromNs) last.toNs = toNs;
      else intervals.push({ fromNs, toNs });
    };
    const first = list[0]!;
    if (!stateConverged(first.state, minConfidence)) push(null, first.logTimeNs);
    for (let i = 0; i < list.length; i++) {
      if (!stateConverged(list[i]!.state, minConfidence)) push(list[i]!.logTimeNs, list[i + 1]?.logTimeNs ?? null);
    }
    result.set(topic, { sensor: first.state.sensor, intervals });
  }
  return result;
}
