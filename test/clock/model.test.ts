import assert from "node:assert/strict";
import { ClockModel, ClockConfigSchema } from "../../src/clock/model.js";
import { LowerEnvelope } from "../../src/clock/envelope.js";

/** Seeded generator of (capture, stamp, receive) with the simulator's clock semantics. */
function* sensorStream(o: { rateHz: number; seconds: number; offsetS: number; driftPpm: number; latencyS: number; jitterS: number; seed: number; step?: { atS: number; stepS: number } }) {
  let state = o.seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const start = 1_700_000_000_000_000_000n;
  for (let i = 0; i < o.rateHz * o.seconds; i++) {
    const t = i / o.rateHz;
    const capture = start + BigInt(Math.round(t * 1e9));
    let device = t + o.offsetS + o.driftPpm * 1e-6 * t;
    if (o.step !== undefined && t >= o.step.atS) device += o.step.stepS;
    const jitter = -o.jitterS * Math.log(1 - uniform());
    yield { t, capture, stamp: start + BigInt(Math.round(device * 1e9)), receive: capture + BigInt(Math.round((o.latencyS + jitter) * 1e9)) };
  }
}

function errorsMs(model: ClockModel, stream: Iterable<{ t: number; capture: bigint; stamp: bigint; receive: bigint }>, fromS: number): number[] {
  const errors: number[] = [];
  for (const m of stream) {
    const corrected = model.observe(m.stamp, m.receive);
    if (m.t >= fromS) errors.push(Math.abs(Number(corrected - m.capture)) / 1e6);
  }
  return errors.sort((a, b) => a - b);
}

const p99 = (sorted: number[]): number => sorted[Math.floor(0.99 * (sorted.length - 1))]!;

describe("clock model (lower envelope)", () => {
  for (const [offsetS, driftPpm, jitterS, seed] of [
    [0.45, 180, 0.01, 1],
    [-0.5, -200, 0.005, 2],
    [0.1, 20, 0.0005, 3],
  ] as const) {
    it(`recovers offset ${offsetS} s, drift ${driftPpm} ppm under ${jitterS * 1000} ms jitter to well under 2 ms`, () => {
      const model = new ClockModel({ latencyS: 0.03 });
      const errors = errorsMs(model, sensorStream({ rateHz: 30, seconds: 40, offsetS, driftPpm, latencyS: 0.03, jitterS, seed }), 10);
      assert.ok(p99(errors) < 1, `p99 ${p99(errors).toFixed(3)} ms`);
      const state = model.state();
      assert.ok(Math.abs(state.driftPpm - driftPpm) < 10, `drift ${state.driftPpm}`);
      assert.ok(Math.abs(state.offsetS - (offsetS + driftPpm * 1e-6 * 40)) < 0.002, `offset ${state.offsetS}`);
      assert.equal(state.stepsDetected, 0);
      assert.ok(state.confidence > 0.9);
    });
  }

  for (const stepS of [0.35, -0.2]) {
    it(`detects a ${stepS} s clock step and is back within 2 ms 2 s after it`, () => {
      const model = new ClockModel({ latencyS: 0.005 });
      const stream = [...sensorStream({ rateHz: 100, seconds: 30, offsetS: -0.2, driftPpm: -60, latencyS: 0.005, jitterS: 0.002, seed: 9, step: { atS: 15, stepS } })];
      const late: number[] = [];
      for (const m of stream) {
        const corrected = model.observe(m.stamp, m.receive);
        if (m.t >= 17) late.push(Math.abs(Number(corrected - m.capture)) / 1e6);
      }
      assert.equal(model.state().stepsDetected, 1);
      assert.ok(Math.max(...late) < 2, `max after step ${Math.max(...late).toFixed(3)} ms`);
    });
  }

  it("without a known latency maps to capture + latency, and applies a calibrated latency", () => {
    const model = new ClockModel({});
    const stream = [...sensorStream({ rateHz: 50, seconds: 20, offsetS: 0.2, driftPpm: 50, latencyS: 0.04, jitterS: 0.001, seed: 4 })];
    let last = 0;
    for (const m of stream.slice(0, 800)) last = Number(model.observe(m.stamp, m.receive) - m.capture) / 1e6;
    assert.ok(Math.abs(last - 40) < 1, `uncalibrated error ${last} ms ≈ the latency`);
    model.setCalibratedLatency(0.0395, 0.001);
    for (const m of stream.slice(800)) last = Number(model.observe(m.stamp, m.receive) - m.capture) / 1e6;
    assert.ok(Math.abs(last) < 1.5, `calibrated error ${last} ms`);
    assert.equal(model.state().latencySource, "calibrated");
  });

  it("keeps a configured latency over a calibration", () => {
    const model = new ClockModel({ latencyS: 0.01 });
    model.setCalibratedLatency(0.05, 0.001);
    assert.equal(model.state().latencyS, 0.01);
    assert.equal(model.state().latencySource, "configured");
  });

  it("trust_header, arrival and fixed_offset modes", () => {
    const stamp = 1_700_000_000_500_000_000n;
    const receive = 1_700_000_000_600_000_000n;
    assert.equal(new ClockModel({ mode: "trust_header" }).observe(stamp, receive), stamp);
    assert.equal(new ClockModel({ mode: "arrival", latencyS: 0.02 }).observe(stamp, receive), receive - 20_000_000n);
    assert.equal(new ClockModel({ mode: "fixed_offset", fixedOffsetS: 0.25 }).observe(stamp, receive), stamp - 250_000_000n);
  });

  it("survives reordered and dropped messages", () => {
    const model = new ClockModel({ latencyS: 0.03 });
    const stream = [...sensorStream({ rateHz: 15, seconds: 30, offsetS: 0.3, driftPpm: -100, latencyS: 0.03, jitterS: 0.004, seed: 5 })].filter((_, i) => i % 7 !== 3);
    for (let i = 10; i + 1 < stream.length; i += 13) [stream[i], stream[i + 1]] = [stream[i + 1]!, stream[i]!];
    const errors = errorsMs(model, stream, 10);
    assert.ok(p99(errors) < 1.5, `p99 ${p99(errors)}`);
    assert.equal(model.state().stepsDetected, 0);
  });

  it("bounds its memory: one point per bin over the window", () => {
    const envelope = new LowerEnvelope({ windowS: 20, binS: 0.05 });
    for (let i = 0; i < 200 * 600; i++) envelope.add(i / 200, 0.01 + (i % 7) * 1e-4);
    assert.ok(envelope.size <= 20 / 0.05 + 2, `size ${envelope.size}`);
  });

  it("refuses a bad configuration naming the key", () => {
    const result = ClockConfigSchema.safeParse({ mode: "guess" });
    assert.equal(result.success, false);
    assert.deepEqual(result.error?.issues[0]?.path, ["mode"]);
  });
});

describe("clock model: stalls and glitches are not clock steps", () => {
  const stream = (): { t: number; capture: bigint; stamp: bigint; receive: bigint }[] =>
    [...sensorStreamForStall()];
  function* sensorStreamForStall() {
    // 200 Hz, offset 0.3 s, 50 ppm, 3 ms latency, 1 ms jitter (deterministic pseudo-random).
    const start = 1_700_000_000_000_000_000n;
    let seed = 7;
    for (let i = 0; i < 200 * 24; i++) {
      const t = i / 200;
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const jitter = -0.001 * Math.log(1 - seed / 2147483648);
      const capture = start + BigInt(Math.round(t * 1e9));
      yield { t, capture, stamp: start + BigInt(Math.round((t + 0.3 + 50e-6 * t) * 1e9)), receive: capture + BigInt(Math.round((0.003 + jitter) * 1e9)) };
    }
  }

  it("a 0.3 s transport stall (every message delivered late, in a burst) is not taken for a clock step", () => {
    const model = new ClockModel({ latencyS: 0.003 });
    const stallEnd = 1_700_000_000_000_000_000n + 12_300_000_000n;
    const late: number[] = [];
    for (const m of stream()) {
      const receive = m.t >= 12 && m.t < 12.3 ? (m.receive > stallEnd ? m.receive : stallEnd) : m.receive;
      const corrected = model.observe(m.stamp, receive);
      if (m.t >= 12) late.push(Math.abs(Number(corrected - m.capture)) / 1e6);
    }
    assert.equal(model.state().stepsDetected, 0);
    assert.ok(Math.max(...late) < 1, `max error during/after the stall ${Math.max(...late).toFixed(3)} ms`);
  });

  it("a single impossible sample (received before it was stamped) is dropped, not fitted", () => {
    const model = new ClockModel({ latencyS: 0.003 });
    const errors: number[] = [];
    for (const m of stream()) {
      const receive = Math.abs(m.t - 15) < 1e-9 ? m.receive - 200_000_000n : m.receive;
      const corrected = model.observe(m.stamp, receive);
      if (m.t > 15) errors.push(Math.abs(Number(corrected - m.capture)) / 1e6);
    }
    assert.equal(model.state().stepsDetected, 0);
    assert.equal(model.state().outliersDropped, 1);
    assert.ok(Math.max(...errors) < 1, `max error after the glitch ${Math.max(...errors).toFixed(3)} ms`);
  });
});
