import assert from "node:assert/strict";
import { TelemetryEventDetector, TelemetryEventConfigSchema, type TelemetrySample } from "../../src/suggest/telemetry.js";
import type { EventSuggestion } from "../../src/suggest/types.js";

/** A 100 Hz drive at 12 m/s with CAN-like noise; `shape` adds events. */
function drive(seconds: number, shape: (t: number, s: TelemetrySample) => void, seed = 1): TelemetrySample[] {
  let state = seed;
  const noise = (): number => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return (state / 2 ** 32 - 0.5) * 0.17; // ≈ 0.05 std
  };
  const out: TelemetrySample[] = [];
  for (let i = 0; i < seconds * 100; i++) {
    const t = i / 100;
    const s = { tNs: BigInt(i) * 10_000_000n, speed: 12, ax: noise(), ay: noise(), yawRate: noise() * 0.04 };
    shape(t, s);
    out.push(s);
  }
  return out;
}

function run(samples: TelemetrySample[], config = {}): EventSuggestion[] {
  const d = new TelemetryEventDetector(config);
  return [...samples.flatMap((s) => d.push(s)), ...d.finish()];
}

const start = (e: EventSuggestion): number => Number(e.startNs) / 1e9;

describe("suggest/telemetry", () => {
  it("finds hard braking, harsh acceleration, a sharp turn, a lane change and a stop with start ≤ 100 ms off", () => {
    const lag = (t: number, t0: number, level: number): number => (t < t0 ? 0 : level * (1 - Math.exp(-(t - t0) / 0.2)));
    const samples = drive(60, (t, s) => {
      if (t >= 5 && t < 6.5) s.ax += lag(t, 5, -7);
      if (t >= 12 && t < 14.5) s.ax += lag(t, 12, 4);
      if (t >= 20 && t < 23.5) {
        s.yawRate += 0.375;
        s.ay += 4.5;
      }
      if (t >= 30 && t < 34) {
        const r = 0.09 * Math.cos((Math.PI * (t - 30)) / 4);
        s.yawRate += r;
        s.ay += 12 * r;
      }
      if (t >= 40 && t < 44.8) s.ax += -2.5;
      if (t >= 44.8 && t < 50) s.speed = 0;
      else if (t >= 40 && t < 44.8) s.speed = 12 - 2.5 * (t - 40);
      if (t >= 50 && t < 52) s.ax += 1.5;
    });
    const events = run(samples);
    const find = (name: string): EventSuggestion => {
      const e = events.find((x) => x.category === name);
      assert.ok(e, `${name} found in ${events.map((x) => x.category).join(",")}`);
      return e;
    };
    assert.ok(Math.abs(start(find("hard_braking")) - 5) <= 0.1);
    assert.ok(find("hard_braking").peakValue < -6.5);
    assert.ok(Math.abs(start(find("harsh_acceleration")) - 12) <= 0.1);
    assert.ok(Math.abs(start(find("sharp_turn")) - 20) <= 0.1);
    assert.ok(Math.abs(start(find("lane_change")) - 30) <= 0.1);
    assert.ok(Math.abs(start(find("stop")) - 40) <= 0.1);
    assert.equal(events.length, 5, events.map((e) => e.category).join(","));
  });

  it("finds lane changes made where the road's curvature changes, and none on the curves alone", () => {
    // Road yaw rate (rad/s) steps: a curve ending as a lane change begins (10 s), a curve beginning
    // halfway through one (31 s), and bare curve changes with no manoeuvre (50–70 s).
    const road = (t: number): number => (t < 10 ? 0.056 : t >= 31 && t < 40 ? -0.078 : t >= 50 && t < 56 ? 0.05 : t >= 56 && t < 62 ? -0.04 : 0);
    const laneChange = (t: number, t0: number): number => (t >= t0 && t < t0 + 4 ? -0.09 * Math.cos((Math.PI * (t - t0)) / 4) : 0);
    const samples = drive(80, (t, s) => {
      s.yawRate += road(t) + laneChange(t, 10) + laneChange(t, 30);
      s.ay += 12 * s.yawRate;
    });
    const changes = run(samples).filter((e) => e.category === "lane_change");
    assert.equal(changes.length, 2, JSON.stringify(changes.map((e) => [start(e), Number(e.endNs) / 1e9])));
    assert.ok(Math.abs(start(changes[0]!) - 10) <= 0.1, `first starts at ${start(changes[0]!)}`);
    assert.ok(Math.abs(start(changes[1]!) - 30) <= 0.1, `second starts at ${start(changes[1]!)}`);
  });

  it("reports nothing on 10 minutes of noisy cruising, and speeding only when a limit is set", () => {
    const samples = drive(600, (t, s) => {
      if (t > 100 && t < 110) s.speed = 16;
    }, 7);
    assert.deepEqual(run(samples).map((e) => e.category), []);
    const speeding = run(samples, { speedLimit: 13.9 });
    assert.deepEqual(speeding.map((e) => e.category), ["speeding"]);
    assert.equal(speeding[0]!.peakValue, 16);
  });

  it("uses a −0.35 g hard-braking default and refuses bad thresholds by key", () => {
    assert.equal(TelemetryEventConfigSchema.parse({}).hardBrakingG, 0.35);
    assert.throws(() => new TelemetryEventDetector({ hardBrakingG: -1 }), /hardBrakingG/);
  });
});
