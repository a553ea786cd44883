import assert from "node:assert/strict";
import { AlignmentStage } from "../../src/align/stage.js";
import { SampleFlag, type AlignedFrameData } from "../../src/align/types.js";
import { sweepOffsetS } from "../../src/align/aligner.js";
import { defaultCodec } from "../../src/messages/codec.js";
import { alignmentConfigForRig } from "../../src/pipeline/rig-config.js";
import { simulateDrive } from "../../src/sim/drive.js";
import { loadRig } from "../../src/sim/rig.js";

describe("aligner frames", function () {
  this.timeout(60_000);
  const rig = loadRig("default");
  const config = alignmentConfigForRig(rig);
  const frames: AlignedFrameData[] = [];
  const corrected = new Map<string, bigint[]>();
  let stage: AlignmentStage;
  const outputs: { topic: string; schemaName: string; data: Uint8Array }[] = [];
  const mostHeld = new Map<string, { messages: number; spanS: number }>();

  before(() => {
    stage = new AlignmentStage({ config });
    for (const m of simulateDrive({ rig, seed: 2, durationS: 8 })) {
      const r = stage.ingest({ topic: m.topic, type: m.type, data: m.data, receiveTime: m.receiveNs });
      for (const [sensor, held] of stage.held()) {
        const most = mostHeld.get(sensor) ?? { messages: 0, spanS: 0 };
        mostHeld.set(sensor, { messages: Math.max(most.messages, held.messages), spanS: Math.max(most.spanS, held.spanS) });
      }
      frames.push(...r.frames);
      outputs.push(...r.outputs);
      if (r.corrected !== null) {
        let list = corrected.get(m.topic);
        if (list === undefined) corrected.set(m.topic, (list = []));
        list.push(r.corrected);
      }
    }
    const end = stage.finish();
    frames.push(...end.frames);
    outputs.push(...end.outputs);
  });

  it("matches each camera to the image nearest the sweep crossing its optical axis", () => {
    const parsed = stage.config;
    let checked = 0;
    for (const frame of frames.slice(5, -5)) {
      for (const camera of parsed.sensors.filter((s) => s.modality === "camera")) {
        const sample = frame.samples.find((s) => s.sensor === camera.name)!;
        const wanted = frame.referenceNs + BigInt(Math.round(sweepOffsetS(parsed, camera.cameraAzimuthRad ?? 0) * 1e9));
        const best = corrected.get(camera.topic)!.reduce((a, b) => (Math.abs(Number(b - wanted)) < Math.abs(Number(a - wanted)) ? b : a));
        assert.equal(sample.correctedNs, best, `${camera.name} in frame ${frame.sequence}`);
        assert.ok(Math.abs(sample.residualS - Number(best - wanted) / 1e9) < 1e-9);
        checked++;
      }
    }
    assert.ok(checked > 100);
  });

  it("holds only what a frame can still choose: well under a second of each camera, not the 3 s bufferS allows", () => {
    const parsed = stage.config;
    assert.equal(parsed.bufferS, 3);
    // Frames wait up to maxWaitS; the history reaches two lidar periods (a reordered sweep) and
    // half the audio window behind the oldest pending frame.
    const bound = parsed.maxWaitS + 2 * parsed.lidarPeriodS + parsed.audioWindowS / 2 + 0.1;
    for (const camera of parsed.sensors.filter((s) => s.modality === "camera")) {
      const most = mostHeld.get(camera.name)!;
      assert.ok(most.spanS > 0 && most.spanS <= bound, `${camera.name}: held ${most.messages} images spanning ${most.spanS.toFixed(3)} s (bound ${bound.toFixed(2)} s)`);
    }
  });

  it("takes the exact audio sample range of the window around the reference", () => {
    const audio = stage.config.sensors.find((s) => s.modality === "audio")!;
    for (const frame of frames.slice(5, -5)) {
      const sample = frame.samples.find((s) => s.sensor === audio.name)!;
      assert.equal(sample.sampleCount, Math.round(stage.config.audioWindowS * rig.audio!.sampleRate));
      const first = sample.messages[0]!;
      const firstCorrected = corrected.get(audio.topic)!.find((c, i) => i >= 0 && c === sample.correctedNs)!;
      const windowStart = frame.referenceNs - BigInt(Math.round((stage.config.audioWindowS / 2) * 1e9));
      const startNs = firstCorrected + BigInt(Math.round((sample.sampleStart! / rig.audio!.sampleRate) * 1e9));
      assert.ok(Math.abs(Number(startNs - windowStart)) <= 1e9 / rig.audio!.sampleRate, `window start off by ${Number(startNs - windowStart)} ns`);
      assert.equal(first.topic, audio.topic);
    }
  });

  it("brackets telemetry around the reference time for interpolation", () => {
    const can = stage.config.sensors.find((s) => s.modality === "telemetry")!;
    let interpolated = 0;
    for (const frame of frames.slice(5, -5)) {
      const sample = frame.samples.find((s) => s.sensor === can.name)!;
      if ((sample.flags & SampleFlag.INTERPOLATED) === 0) continue;
      interpolated++;
      assert.equal(sample.messages.length, 2);
    }
    assert.ok(interpolated > frames.length * 0.8, `${interpolated} of ${frames.length} interpolated`);
  });

  it("interpolates a 10 Hz sensor (GNSS) across a lost message instead of holding a stale value", () => {
    const gnss = stage.config.sensors.find((s) => s.modality === "gnss")!;
    const inner = frames.slice(5, -5);
    const samples = inner.map((frame) => frame.samples.find((s) => s.sensor === gnss.name)!);
    const interpolated = samples.filter((s) => (s.flags & SampleFlag.INTERPOLATED) !== 0);
    assert.ok(interpolated.length >= inner.length * 0.95, `${interpolated.length} of ${inner.length} interpolated`);
    for (const s of interpolated) {
      assert.equal(s.messages.length, 2);
      assert.equal(s.flags & (SampleFlag.STALE | SampleFlag.MISSING), 0);
    }
  });

  it("flags the audio CLOCK_UNCONVERGED until its unknown latency is calibrated, and not after", () => {
    const audio = stage.config.sensors.find((s) => s.modality === "audio")!;
    const flagsOf = (frame: AlignedFrameData): number => frame.samples.find((s) => s.sensor === audio.name)!.flags;
    assert.ok(frames.slice(0, 10).every((f) => (flagsOf(f) & SampleFlag.CLOCK_UNCONVERGED) !== 0));
    assert.equal(stage.clockState(audio.name)!.latencySource, "calibrated");
    assert.ok(frames.slice(-10).every((f) => (flagsOf(f) & SampleFlag.CLOCK_UNCONVERGED) === 0));
  });

  it("publishes AlignedFrame, SensorClockState and DiagnosticArray that decode", () => {
    const codec = defaultCodec();
    const topics = new Set(outputs.map((o) => o.topic));
    assert.deepEqual([...topics].sort(), ["/diagnostics", "/syncbag/clock_state", "/syncbag/frames"]);
    const frameMessages = outputs.filter((o) => o.topic === "/syncbag/frames");
    assert.equal(frameMessages.length, frames.length);
    const decoded = codec.decode("syncbag/AlignedFrame", frameMessages[3]!.data) as { samples: { sensor: string }[]; reference_sensor: string };
    assert.equal(decoded.reference_sensor, "lidar_top");
    assert.equal(decoded.samples.length, stage.config.sensors.length);
    const diagnostics = codec.decode("diagnostic_msgs/DiagnosticArray", outputs.find((o) => o.topic === "/diagnostics")!.data) as { status: { name: string; values: { key: string }[] }[] };
    assert.equal(diagnostics.status.length, stage.config.sensors.length);
    assert.ok(diagnostics.status[0]!.values.some((v) => v.key === "out_of_tolerance_share"));
    // The microphone warns while its latency is unknown, and is OK once calibrated.
    const allDiagnostics = outputs.filter((o) => o.topic === "/diagnostics").map((o) => codec.decode("diagnostic_msgs/DiagnosticArray", o.data) as { status: { name: string; level: number; message: string }[] });
    const mic = (d: (typeof allDiagnostics)[number]) => d.status.find((s) => s.name.endsWith(stage.config.sensors.find((x) => x.modality === "audio")!.name))!;
    assert.equal(mic(allDiagnostics[1]!).level, 1);
    assert.match(mic(allDiagnostics[1]!).message, /latency unknown|not converged/);
    assert.equal(mic(allDiagnostics[allDiagnostics.length - 1]!).level, 0);
  });
});

describe("aligner robustness", () => {
  const rig = loadRig("default");

  it("emits frames with MISSING samples for a silent sensor once the wait runs out", () => {
    const config = alignmentConfigForRig(rig);
    config.sensors!.push({ name: "ghost", topic: "/ghost", type: "sensor_msgs/Imu", modality: "imu" });
    const stage = new AlignmentStage({ config });
    const frames: AlignedFrameData[] = [];
    for (const m of simulateDrive({ rig, seed: 4, durationS: 3 })) frames.push(...stage.ingest({ topic: m.topic, type: m.type, data: m.data, receiveTime: m.receiveNs }).frames);
    assert.ok(frames.length >= 20, `${frames.length} frames despite the silent sensor`);
    for (const frame of frames) assert.ok((frame.samples.find((s) => s.sensor === "ghost")!.flags & SampleFlag.MISSING) !== 0);
  });

  it("without a lidar it still corrects every stamp, and assembles no frames", () => {
    const config = alignmentConfigForRig(rig);
    config.sensors = config.sensors!.filter((s) => s.modality !== "lidar");
    const stage = new AlignmentStage({ config });
    let corrected = 0;
    let frames = 0;
    for (const m of simulateDrive({ rig, seed: 4, durationS: 2 })) {
      const r = stage.ingest({ topic: m.topic, type: m.type, data: m.data, receiveTime: m.receiveNs });
      if (r.corrected !== null) corrected++;
      frames += r.frames.length;
    }
    assert.equal(frames, 0);
    assert.ok(corrected > 500);
  });

  it("takes rosbag2 type names (pkg/msg/Type) as well: audio windows and calibration work from recordings", () => {
    const stage = new AlignmentStage({ config: alignmentConfigForRig(rig) });
    const frames: AlignedFrameData[] = [];
    for (const m of simulateDrive({ rig, seed: 6, durationS: 8 })) {
      const type = m.type.replace("/", "/msg/");
      frames.push(...stage.ingest({ topic: m.topic, type, data: m.data, receiveTime: m.receiveNs }).frames);
    }
    const audio = rig.audio!.name;
    assert.equal(stage.clockState(audio)!.latencySource, "calibrated");
    const last = frames[frames.length - 1]!.samples.find((s) => s.sensor === audio)!;
    assert.equal(last.sampleCount, Math.round(stage.config.audioWindowS * rig.audio!.sampleRate));
  });

  it("counts malformed messages and keeps going", () => {
    const stage = new AlignmentStage({ config: alignmentConfigForRig(rig) });
    const topic = rig.lidar!.topic;
    const result = stage.ingest({ topic, type: "sensor_msgs/PointCloud2", data: new Uint8Array([0, 1, 0, 0, 7]), receiveTime: 5n });
    assert.equal(result.corrected, null);
    assert.equal(stage.health().find((h) => h.topic === topic)!.malformed, 1);
  });

  it("refuses a configuration with a bad key, naming it", () => {
    assert.throws(() => new AlignmentStage({ config: { sensors: [{ name: "x", topic: "/x", type: "t", modality: "radar" }] } }), /align\.sensors\.0\.modality/);
    assert.throws(() => new AlignmentStage({ config: { sensors: [], reference: "nope" } }), /align\.reference/);
  });
});
