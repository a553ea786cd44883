import assert from "node:assert/strict";
import { simulateDrive } from "../../src/sim/drive.js";
import { stampOf, testDrive, testRig } from "./fixture.js";

describe("sim clock faults", function () {
  this.timeout(60_000);

  it("writes header stamps equal to the truth stamps, in arrival order", () => {
    const { messages, truth } = testDrive();
    for (const sensor of truth.sensors) {
      const stamps = messages.filter((m) => m.topic === sensor.topic).map((m) => stampOf(m).toString());
      assert.deepEqual(stamps, truth.messages[sensor.topic]!.stampNs, sensor.topic);
      assert.ok(stamps.length > 0, sensor.topic);
    }
  });

  it("stamps = capture + offset + drift·elapsed (+ step) exactly, and a fit recovers offset and drift", () => {
    const { truth } = testDrive();
    const start = BigInt(truth.startNs);
    for (const sensor of truth.sensors) {
      const t = truth.messages[sensor.topic]!;
      const c = sensor.clock;
      const xs: number[] = [];
      const ys: number[] = [];
      for (let i = 0; i < t.stampNs.length; i++) {
        const capture = BigInt(t.captureNs[i]!);
        const elapsed = Number(capture - start) / 1e9;
        const stepped = c.step !== null && capture >= BigInt(c.step.atNs);
        const expected = c.offsetS + c.driftPpm * 1e-6 * elapsed + (stepped ? c.step!.stepS : 0);
        const actual = Number(BigInt(t.stampNs[i]!) - capture) / 1e9;
        assert.ok(Math.abs(actual - expected) < 2e-9, `${sensor.topic}: stamp−capture ${actual} vs ${expected}`);
        if (!stepped) {
          xs.push(elapsed);
          ys.push(actual);
        }
      }
      // Least-squares line through (elapsed, stamp − capture): intercept = offset, slope = drift.
      const n = xs.length;
      const mx = xs.reduce((a, b) => a + b, 0) / n;
      const my = ys.reduce((a, b) => a + b, 0) / n;
      let sxy = 0;
      let sxx = 0;
      for (let i = 0; i < n; i++) {
        sxy += (xs[i]! - mx) * (ys[i]! - my);
        sxx += (xs[i]! - mx) ** 2;
      }
      const slopePpm = (sxy / sxx) * 1e6;
      const intercept = my - (sxy / sxx) * mx;
      assert.ok(Math.abs(slopePpm - c.driftPpm) < 0.5, `${sensor.topic}: fitted drift ${slopePpm} ppm vs ${c.driftPpm}`);
      assert.ok(Math.abs(intercept - c.offsetS) < 1e-6, `${sensor.topic}: fitted offset ${intercept} vs ${c.offsetS}`);
    }
  });

  it("applies the clock step only after its time", () => {
    const { truth } = testDrive();
    const can = truth.sensors.find((s) => s.name === "can")!;
    assert.ok(can.clock.step !== null);
    const t = truth.messages[can.topic]!;
    const at = BigInt(can.clock.step.atNs);
    const before = t.captureNs.filter((c) => BigInt(c) < at).length;
    const after = t.captureNs.length - before;
    assert.ok(before > 50 && after > 50, `${before} before, ${after} after the step`);
  });

  it("delays messages by latency + non-negative jitter with the configured mean", () => {
    const { truth } = testDrive();
    for (const sensor of truth.sensors) {
      const t = truth.messages[sensor.topic]!;
      const c = sensor.clock;
      const extra: number[] = [];
      for (let i = 0; i < t.captureNs.length; i++) {
        const latency = Number(BigInt(t.receiveNs[i]!) - BigInt(t.captureNs[i]!)) / 1e9;
        assert.ok(latency >= c.latencyFixedS - 1e-9, `${sensor.topic}: latency ${latency} < fixed ${c.latencyFixedS}`);
        extra.push(latency - c.latencyFixedS);
      }
      if (c.reorderRate === 0 && c.jitterS > 0 && extra.length >= 100) {
        const mean = extra.reduce((a, b) => a + b, 0) / extra.length;
        const max = Math.max(...extra);
        assert.ok(Math.abs(mean - c.jitterS) < 0.25 * c.jitterS, `${sensor.topic}: mean jitter ${mean} vs ${c.jitterS}`);
        assert.ok(max <= 8 * c.jitterS + 1e-9, `${sensor.topic}: jitter ${max} above the cap`);
      }
    }
  });

  it("drops and reorders at the configured rates, and arrivals are in receive order", () => {
    const { drive, truth, messages } = testDrive();
    for (let i = 1; i < messages.length; i++) assert.ok(messages[i]!.receiveNs >= messages[i - 1]!.receiveNs, "arrival order");
    const imu = truth.sensors.find((s) => s.name === "imu")!;
    const imuCount = truth.messages[imu.topic]!.stampNs.length;
    const expected = drive.durationS * imu.rateHz;
    const dropped = 1 - imuCount / expected;
    assert.ok(Math.abs(dropped - imu.clock.dropRate) < 0.04, `imu drop fraction ${dropped} vs ${imu.clock.dropRate}`);
    const can = truth.sensors.find((s) => s.name === "can")!;
    const captures = truth.messages[can.topic]!.captureNs.map((c) => BigInt(c));
    let inversions = 0;
    for (let i = 1; i < captures.length; i++) if (captures[i]! < captures[i - 1]!) inversions++;
    const rate = inversions / captures.length;
    assert.ok(rate > 0.01 && rate < 0.12, `CAN out-of-order rate ${rate} vs configured ${can.clock.reorderRate}`);
    // Sensors without reordering arrive in capture order.
    const lidar = truth.messages[drive.rig.lidar!.topic]!.captureNs.map((c) => BigInt(c));
    for (let i = 1; i < lidar.length; i++) assert.ok(lidar[i]! > lidar[i - 1]!);
  });
});

describe("sim clock step uniqueness", () => {
  it("keeps stamps unique within a topic when a backward step lands on earlier stamps", () => {
    // 100 Hz, no drift, a −0.2 s step: without care, stamps after the step repeat earlier ones exactly.
    const rig = testRig({ durationS: 1, lidar: null, cameras: [], audio: null, imu: null, gnss: null, odometry: null, telemetry: { clock: { offsetS: 0, driftPpm: 0, latencyFixedS: 0.004, jitterS: 0.001, step: { atS: 0.5, stepS: -0.2 } } } });
    const drive = simulateDrive({ rig, seed: 1 });
    for (const _ of drive);
    const stamps = drive.truth().messages["/vehicle/telemetry"]!.stampNs;
    assert.equal(new Set(stamps).size, stamps.length);
    assert.ok(stamps.length > 90);
  });
});
