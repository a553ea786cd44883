/**
 * Engine-tone latency calibration on simulated drives, fed with true times so the calibration is
 * judged alone: audio at capture + a known latency, telemetry at capture.
 */
import assert from "node:assert/strict";
import { EngineToneCalibration, type CalibrationResult } from "../../src/clock/engine-tone.js";
import { simulateDrive } from "../../src/sim/drive.js";
import { loadRig, type RigConfig } from "../../src/sim/rig.js";

function calibrate(rig: RigConfig, seed: number, durationS: number, audioShiftS: number): { first: CalibrationResult | null; firstAtS: number | null; last: CalibrationResult | null } {
  const cal = new EngineToneCalibration({ audioTopic: rig.audio!.topic, telemetryTopic: rig.telemetry!.topic, cylinders: rig.vehicle.cylinders });
  const shift = BigInt(Math.round(audioShiftS * 1e9));
  let first: CalibrationResult | null = null;
  let firstAtS: number | null = null;
  const drive = simulateDrive({ rig, seed, durationS });
  for (const m of drive) {
    if (m.topic === rig.audio!.topic) cal.observe({ topic: m.topic, type: m.type, data: m.data, receiveTime: m.receiveNs }, m.captureNs + shift);
    else if (m.topic === rig.telemetry!.topic) cal.observe({ topic: m.topic, type: m.type, data: m.data, receiveTime: m.receiveNs }, m.captureNs);
    const result = cal.poll();
    if (result?.confident === true && first === null) {
      first = result;
      firstAtS = Number(m.captureNs - drive.startNs) / 1e9;
    }
  }
  return { first, firstAtS, last: cal.result };
}

describe("engine-tone latency calibration", function () {
  this.timeout(60_000);

  for (const [rigName, seed, shiftS] of [
    ["default", 1, 0.04],
    ["default", 7, 0.115],
    ["sample-faulty", 2, 0.04],
  ] as const) {
    it(`${rigName} rig, seed ${seed}: finds a ${shiftS * 1000} ms audio lag within 1 ms, confidently`, () => {
      const { first, firstAtS } = calibrate(loadRig(rigName), seed, 12, shiftS);
      assert.ok(first !== null, "never confident");
      assert.ok(Math.abs(first.latencyS - shiftS) < 0.001, `latency ${(first.latencyS * 1000).toFixed(2)} ms`);
      assert.ok(first.uncertaintyS > 0 && first.uncertaintyS <= 0.0015, `uncertainty ${first.uncertaintyS}`);
      // The reported one-sigma uncertainty is honest: the error is within 3 σ.
      assert.ok(Math.abs(first.latencyS - shiftS) <= 3 * first.uncertaintyS, `error ${first.latencyS - shiftS} vs σ ${first.uncertaintyS}`);
      assert.ok(firstAtS! < 10, `confident only at ${firstAtS} s`);
    });
  }

  it("44.1 kHz stereo audio, 6 cylinders, synthetic RPM swings: finds a 60 ms lag within 1 ms", () => {
    const cal = new EngineToneCalibration({ audioTopic: "/a", telemetryTopic: "/t", cylinders: 6 });
    const start = 1_700_000_000_000_000_000n;
    const rate = 44100;
    const frames = 882;
    const rpmAt = (t: number): number => 1600 + 700 * Math.sin((2 * Math.PI * t) / 3) + 300 * Math.sin((2 * Math.PI * t) / 0.7);
    let phase = 0;
    let noise = 12345;
    for (let chunk = 0; chunk < 12 * 50; chunk++) {
      const samples = new Int16Array(frames * 2);
      for (let i = 0; i < frames; i++) {
        const t = (chunk * frames + i) / rate;
        phase += (2 * Math.PI * (rpmAt(t) / 60) * 3) / rate;
        noise = (noise * 1103515245 + 12345) % 2147483648;
        const v = 6000 * (Math.sin(phase) + 0.6 * Math.sin(2 * phase) + 0.3 * Math.sin(3 * phase)) + 3000 * (noise / 2147483648 - 0.5);
        samples[2 * i] = Math.round(v);
        samples[2 * i + 1] = Math.round(0.9 * v);
      }
      const captureNs = start + BigInt(Math.round(((chunk * frames) / rate) * 1e9));
      cal.addAudio(captureNs + 60_000_000n, { sample_rate: rate, channels: 2, encoding: "S16LE", frames, data: new Uint8Array(samples.buffer) });
      for (let k = 0; k < 2; k++) {
        const t = (chunk * frames) / rate + k * 0.01;
        cal.addRpm(start + BigInt(Math.round(t * 1e9)), Math.round(rpmAt(t) * 4) / 4);
      }
    }
    const result = cal.fit();
    assert.ok(result !== null);
    assert.ok(Math.abs(result.latencyS - 0.06) < 0.001, `latency ${(result.latencyS * 1000).toFixed(2)} ms`);
    assert.equal(result.confident, true, `σ ${result.uncertaintyS}`);
  });

  it("is never confident when the RPM does not change (the lag is unobservable)", () => {
    const cal = new EngineToneCalibration({ audioTopic: "/a", telemetryTopic: "/t", cylinders: 4, minDataS: 3 });
    const start = 1_700_000_000_000_000_000n;
    const rate = 48000;
    const frames = 960;
    const f = (1500 / 60) * 2;
    let phase = 0;
    for (let chunk = 0; chunk < 12 * 50; chunk++) {
      const samples = new Int16Array(frames);
      for (let i = 0; i < frames; i++) {
        phase += (2 * Math.PI * f) / rate;
        samples[i] = Math.round(8000 * (Math.sin(phase) + 0.5 * Math.sin(2 * phase)) + 500 * Math.sin(i * 1.7));
      }
      const t = start + BigInt(chunk * 20_000_000);
      cal.addAudio(t + 40_000_000n, { sample_rate: rate, channels: 1, encoding: "S16LE", frames, data: new Uint8Array(samples.buffer) });
      cal.addRpm(t, 1500);
      cal.addRpm(t + 10_000_000n, 1500);
    }
    const result = cal.fit();
    assert.ok(result !== null);
    assert.equal(result.confident, false);
    assert.ok(result.uncertaintyS > 0.0015, `uncertainty ${result.uncertaintyS}`);
  });

  it("ignores audio it cannot read", () => {
    const cal = new EngineToneCalibration({ audioTopic: "/a", telemetryTopic: "/t", windowS: 5 });
    cal.addAudio(0n, { sample_rate: 48000, channels: 1, encoding: "MP3", frames: 10, data: new Uint8Array(20) });
    cal.addAudio(0n, { sample_rate: 0, channels: 1, encoding: "S16LE", frames: 10, data: new Uint8Array(20) });
    assert.equal(cal.fit(), null);
    assert.equal(cal.result, null);
  });
});

describe("engine_rpm in place", () => {
  it("agrees with the full decode on every simulated telemetry message (CDR LE), and null for a truncated one", async () => {
    const { engineRpmOf } = await import("../../src/clock/engine-tone.js");
    const { defaultCodec } = await import("../../src/messages/codec.js");
    const rig = loadRig("sample-step");
    let checked = 0;
    for (const m of simulateDrive({ rig, seed: 1, durationS: 1 })) {
      if (m.topic !== rig.telemetry!.topic) continue;
      const decoded = defaultCodec().decode(m.type, m.data) as { engine_rpm: number };
      assert.equal(engineRpmOf(m.type, m.data), decoded.engine_rpm);
      checked++;
    }
    assert.ok(checked > 50);
    assert.equal(engineRpmOf("syncbag/VehicleTelemetry", new Uint8Array([0, 1, 0, 0, 1, 2])), null);
  });
});
