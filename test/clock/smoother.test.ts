import assert from "node:assert/strict";
import { smoothClock, type SmoothedClock } from "../../src/clock/smoother.js";
import { stampSeries, uniformSource, type SeriesMessage, type SeriesOptions } from "./stamp-series.js";

/** Fits a series and returns |corrected − capture| (ms) per message, in input order. */
function fitErrors(messages: SeriesMessage[], latencyS: number): { fit: SmoothedClock; errors: number[] } {
  const origin = messages[0]!.stampNs;
  const t = new Float64Array(messages.map((m) => Number(m.stampNs - origin) / 1e9));
  const d = new Float64Array(messages.map((m) => Number(m.receiveNs - m.stampNs) / 1e9));
  const fit = smoothClock(t, d, messages.length);
  const errors = messages.map((m, i) => {
    const corrected = m.stampNs + BigInt(Math.round((fit.segments[fit.segmentOf[i]!]!.intercept + fit.slope * t[i]! - latencyS) * 1e9));
    return Math.abs(Number(corrected - m.captureNs)) / 1e6;
  });
  return { fit, errors };
}

const quantile = (values: number[], q: number): number => [...values].sort((a, b) => a - b)[Math.floor(q * (values.length - 1))]!;

// The simulator's sensor kinds (rates, jitter, drops and reordering as in the sample rigs).
const KINDS: (Pick<SeriesOptions, "rateHz" | "jitterS" | "reorderRate" | "dropRate"> & { name: string })[] = [
  { name: "lidar", rateHz: 10, jitterS: 0.001 },
  { name: "camera", rateHz: 15, jitterS: 0.003, reorderRate: 0.05, dropRate: 0.05 },
  { name: "faulty camera", rateHz: 10, jitterS: 0.01, reorderRate: 0.08, dropRate: 0.05 },
  { name: "CAN", rateHz: 100, jitterS: 0.002, reorderRate: 0.05, dropRate: 0.03 },
  { name: "IMU", rateHz: 200, jitterS: 0.0005, reorderRate: 0.02 },
  { name: "GNSS", rateHz: 10, jitterS: 0.01, dropRate: 0.1 },
  { name: "microphone", rateHz: 50, jitterS: 0.003, dropRate: 0.02 },
];

describe("clock smoother (hindsight over the whole record)", () => {
  // Seeds the smoother was not developed on; offsets, drifts and two steps per sensor drawn at random.
  for (const seed of [101, 202]) {
    it(`10-minute drive, seed ${seed}: drift and two random steps (10–500 ms, either sign) per sensor; every message within 2 ms of its capture`, () => {
      const seconds = 600;
      for (const kind of KINDS) {
        const u = uniformSource(seed * 7919 + kind.rateHz);
        const steps = [0, 1].map(() => ({ atS: 5 + u() * (seconds - 10), stepS: (u() < 0.5 ? -1 : 1) * (0.01 + u() * 0.49) })).sort((a, b) => a.atS - b.atS);
        const offsetS = u() - 0.5;
        const driftPpm = (u() - 0.5) * 400;
        const latencyS = 0.002 + u() * 0.1;
        const messages = stampSeries({ ...kind, seconds, offsetS, driftPpm, latencyS, steps, seed });
        const { fit, errors } = fitErrors(messages, latencyS);
        const scored = errors.filter((_, i) => !messages[i]!.ambiguous);
        const label = `${kind.name} (steps ${steps.map((s) => `${(s.stepS * 1000).toFixed(0)} ms at ${s.atS.toFixed(1)} s`).join(", ")})`;
        assert.equal(fit.segments.length, 3, `${label}: ${fit.segments.length - 1} steps found`);
        assert.ok(Math.abs(-fit.slope * 1e6 - driftPpm) < 1, `${label}: drift ${(-fit.slope * 1e6).toFixed(2)} vs ${driftPpm.toFixed(2)} ppm`);
        assert.ok(Math.max(...scored) <= 2, `${label}: worst error ${Math.max(...scored).toFixed(3)} ms`);
        assert.ok(quantile(scored, 0.99) <= 0.5, `${label}: p99 ${quantile(scored, 0.99).toFixed(3)} ms`);
        // Only a message delayed by more than a backward step is beyond reach, and they are rare.
        assert.ok(messages.length - scored.length <= 3, `${label}: ${messages.length - scored.length} ambiguous`);
      }
    });
  }

  it("places a step exactly: no message on the wrong side, even right at it (forward and backward)", () => {
    for (const stepS of [0.35, -0.2, 0.012, -0.015]) {
      const messages = stampSeries({ rateHz: 100, seconds: 20, offsetS: -0.2, driftPpm: -60, latencyS: 0.005, jitterS: 0.002, reorderRate: 0.05, steps: [{ atS: 10.003, stepS }], seed: 9 });
      const { fit, errors } = fitErrors(messages, 0.005);
      assert.equal(fit.segments.length, 2, `step ${stepS}`);
      const after = (m: SeriesMessage): boolean => Number(m.captureNs - messages.reduce((a, b) => (b.captureNs < a ? b.captureNs : a), messages[0]!.captureNs)) / 1e9 >= 10.003 - 0.01;
      messages.forEach((m, i) => {
        if (m.ambiguous) return;
        assert.ok(errors[i]! <= 1, `step ${stepS}: message ${i} ${after(m) ? "after" : "before"} it off by ${errors[i]!.toFixed(3)} ms`);
      });
    }
  });

  it("a 4-second record with 10 ms jitter: within 2 ms (the drift prior holds a slope the record cannot pin)", () => {
    for (const seed of [11, 12, 13]) {
      const messages = stampSeries({ rateHz: 10, seconds: 4, offsetS: 0.3, driftPpm: 150, latencyS: 0.05, jitterS: 0.01, dropRate: 0.05, seed });
      const { errors } = fitErrors(messages, 0.05);
      assert.ok(Math.max(...errors) <= 2, `seed ${seed}: worst ${Math.max(...errors).toFixed(3)} ms`);
    }
  });

  it("a transport stall is not a step; a lone message below the floor (negative latency) is left out, not fitted", () => {
    const messages = stampSeries({ rateHz: 50, seconds: 60, offsetS: 0.1, driftPpm: 30, latencyS: 0.01, jitterS: 0.001, seed: 4 });
    // A 1.5 s stall at 20 s: everything captured in it arrives together at its end.
    const stallStart = messages[0]!.captureNs + 20_000_000_000n;
    const stallEnd = stallStart + 1_500_000_000n;
    for (const m of messages) if (m.receiveNs > stallStart && m.receiveNs < stallEnd) m.receiveNs = stallEnd;
    // A glitch: one message 80 ms earlier than it could have arrived.
    const glitch = messages[2000]!;
    glitch.receiveNs -= 80_000_000n;
    messages.sort((a, b) => (a.receiveNs < b.receiveNs ? -1 : a.receiveNs > b.receiveNs ? 1 : 0));
    const { fit, errors } = fitErrors(messages, 0.01);
    assert.equal(fit.segments.length, 1, `${fit.segments.length - 1} steps`);
    assert.equal(fit.outliers, 1);
    const others = errors.filter((_, i) => messages[i] !== glitch);
    assert.ok(Math.max(...others) <= 0.2, `worst ${Math.max(...others).toFixed(3)} ms`);
  });

  it("refutes the unfixed fit: without the split at the step, the same data are off by the step", () => {
    // The filter's own failure mode: a single lower envelope across a 0.35 s step.
    const messages = stampSeries({ rateHz: 30, seconds: 10, offsetS: 0.1, driftPpm: 40, latencyS: 0.03, jitterS: 0.003, steps: [{ atS: 5, stepS: 0.35 }], seed: 3 });
    const origin = messages[0]!.stampNs;
    const t = new Float64Array(messages.map((m) => Number(m.stampNs - origin) / 1e9));
    const d = new Float64Array(messages.map((m) => Number(m.receiveNs - m.stampNs) / 1e9));
    const oneSegment = smoothClock(t, d, messages.length, { minStepS: 10 });
    assert.equal(oneSegment.segments.length, 1);
    const worst = Math.max(...messages.map((m, i) => Math.abs(Number(m.stampNs - m.captureNs) / 1e9 + oneSegment.segments[0]!.intercept + oneSegment.slope * t[i]! - 0.03)));
    assert.ok(worst > 0.1, `worst ${worst}`);
    assert.equal(fitErrors(messages, 0.03).fit.segments.length, 2);
  });
});
