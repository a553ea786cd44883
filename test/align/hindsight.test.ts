import assert from "node:assert/strict";
import { HindsightSurvey } from "../../src/align/hindsight.js";
import { AlignmentStage } from "../../src/align/stage.js";
import { defaultCodec } from "../../src/messages/codec.js";
import { alignmentConfigForRig } from "../../src/pipeline/rig-config.js";
import { simulateDrive, type SimMessage } from "../../src/sim/drive.js";
import { loadRig, type RigConfig } from "../../src/sim/rig.js";
import type { TruthFile } from "../../src/sim/truth.js";

/** The sample-step rig with steps it was never run with: three stepped clocks, either sign, at odd times. */
function steppedRig(): RigConfig {
  const rig = structuredClone(loadRig("sample-step"));
  rig.cameras[0]!.clock.step = { atS: 3.7, stepS: -0.12 };
  rig.cameras[1]!.clock.step = { atS: 5.05, stepS: 0.6 };
  rig.telemetry!.clock.step = { atS: 2.35, stepS: 0.09 };
  rig.imu!.clock.step = { atS: 6.1, stepS: -0.045 };
  return rig;
}

function simulate(rig: RigConfig, seed: number, durationS: number): { messages: SimMessage[]; truth: TruthFile } {
  const drive = simulateDrive({ rig, seed, durationS });
  const messages = [...drive];
  return { messages, truth: drive.truth() };
}

interface Scored {
  worstMs: Map<string, number>;
  p99Ms: Map<string, number>;
}

/** Runs the drive through a stage (with or without hindsight) and scores |corrected − capture| of every sensor message. */
function score(rig: RigConfig, messages: SimMessage[], truth: TruthFile, hindsight: boolean): Scored & { stage: AlignmentStage } {
  const config = alignmentConfigForRig(rig);
  let options: ConstructorParameters<typeof AlignmentStage>[0] = { config };
  if (hindsight) {
    const survey = new HindsightSurvey(config);
    for (const m of messages) survey.observe({ topic: m.topic, type: m.type, data: m.data, receiveTime: m.receiveNs });
    options = { config, hindsight: survey.finish() };
  }
  const stage = new AlignmentStage(options);
  const errors = new Map<string, number[]>();
  const names = new Map(truth.sensors.map((s) => [s.topic, s.name]));
  for (const m of messages) {
    const { corrected } = stage.ingest({ topic: m.topic, type: m.type, data: m.data, receiveTime: m.receiveNs });
    const name = names.get(m.topic);
    if (corrected === null || name === undefined) continue;
    let list = errors.get(name);
    if (list === undefined) errors.set(name, (list = []));
    list.push(Math.abs(Number(corrected - m.captureNs)) / 1e6);
  }
  stage.finish();
  const worstMs = new Map<string, number>();
  const p99Ms = new Map<string, number>();
  for (const [name, list] of errors) {
    list.sort((a, b) => a - b);
    worstMs.set(name, list[list.length - 1]!);
    p99Ms.set(name, list[Math.floor(0.99 * (list.length - 1))]!);
  }
  return { worstMs, p99Ms, stage };
}

describe("alignment with hindsight (two passes over a drive)", function () {
  this.timeout(120000);

  it("every message of every sensor within its bound from the first to the last, across four clock steps the fit was not tuned on", () => {
    const rig = steppedRig();
    const { messages, truth } = simulate(rig, 31, 8);
    const hindsight = score(rig, messages, truth, true);
    for (const sensor of truth.sensors) {
      const bound = sensor.clock.latencyKnown ? 2 : 5;
      const worst = hindsight.worstMs.get(sensor.name)!;
      assert.ok(worst <= bound, `${sensor.name}: worst ${worst.toFixed(3)} ms > ${bound} ms`);
    }
    const mic = hindsight.stage.clockState("microphone")!;
    assert.equal(mic.latencySource, "calibrated");
    assert.ok(Math.abs(mic.latencyS - 0.04) < 0.002, `microphone latency ${mic.latencyS}`);
    for (const name of ["camera_front", "camera_front_left", "can", "imu"]) assert.equal(hindsight.stage.clockState(name)!.stepsDetected, 1, `${name}: one step`);
    assert.equal(hindsight.stage.clockState("camera_front_right")!.stepsDetected, 0);
    // The online models on the same drive: the messages before each step is confirmed keep the stepped time.
    const online = score(rig, messages, truth, false);
    assert.ok(online.worstMs.get("camera_front_left")! > 100, `online camera_front_left worst ${online.worstMs.get("camera_front_left")}`);
    assert.ok(online.worstMs.get("microphone")! > 30, `online microphone worst ${online.worstMs.get("microphone")}`);
  });

  it("a faulty rig (drops, reordering, ±0.5 s offsets, ±200 ppm) on an unseen seed: p99 within bounds, every message within 3 ms", () => {
    const rig = loadRig("sample-faulty");
    const { messages, truth } = simulate(rig, 57, 6);
    const { worstMs, p99Ms } = score(rig, messages, truth, true);
    for (const sensor of truth.sensors) {
      const bound = sensor.clock.latencyKnown ? 2 : 5;
      assert.ok(p99Ms.get(sensor.name)! <= bound, `${sensor.name}: p99 ${p99Ms.get(sensor.name)!.toFixed(3)} ms`);
      assert.ok(worstMs.get(sensor.name)! <= 3, `${sensor.name}: worst ${worstMs.get(sensor.name)!.toFixed(3)} ms`);
    }
  });

  it("memory: the survey holds the stamp series (≤ 32 bytes per message), whatever the payloads weigh", () => {
    const config = alignmentConfigForRig(loadRig("sample-compact"));
    const lidar = config.sensors!.find((s) => s.modality === "lidar")!;
    const codec = defaultCodec();
    const feed = (payloadBytes: number): HindsightSurvey => {
      const survey = new HindsightSurvey(config);
      for (let i = 0; i < 3000; i++) {
        const stampNs = 1_700_000_000_000_000_000n + BigInt(i) * 100_000_000n;
        const data = codec.encode("sensor_msgs/PointCloud2", {
          header: { stamp: { sec: Number(stampNs / 1_000_000_000n), nanosec: Number(stampNs % 1_000_000_000n) }, frame_id: "lidar_top" },
          height: 1,
          width: payloadBytes / 16,
          fields: [],
          is_bigendian: false,
          point_step: 16,
          row_step: payloadBytes,
          data: new Uint8Array(payloadBytes),
          is_dense: true,
        });
        survey.observe({ topic: lidar.topic, type: "sensor_msgs/PointCloud2", data, receiveTime: stampNs + 50_000_000n });
      }
      return survey;
    };
    const small = feed(16);
    const large = feed(256 * 1024);
    assert.equal(large.seriesBytes, small.seriesBytes, "series bytes depend on the payloads");
    assert.ok(small.seriesBytes <= 32 * 3000 + 16 * 256 * config.sensors!.length, `${small.seriesBytes} bytes for 3000 messages`);
    assert.equal(small.finish().state(lidar.topic)!.observations, 3000);
  });

  it("memory: the calibration keeps the audio of its most informative windows only", () => {
    const rig = loadRig("sample-compact");
    const config = alignmentConfigForRig(rig);
    const drive = simulateDrive({ rig, seed: 3, durationS: 12 });
    const survey = new HindsightSurvey(config, { toneWindowS: 2, toneWindows: 2 });
    let audioChunks = 0;
    let most = 0;
    for (const m of drive) {
      if (m.type === "syncbag/AudioChunk") audioChunks++;
      survey.observe({ topic: m.topic, type: m.type, data: m.data, receiveTime: m.receiveNs });
      most = Math.max(most, survey.calibrationBytes);
    }
    // At any time: the 2 kept windows and the one being filled, 2 s each of 2 kHz float32 (a chunk of slack each).
    assert.ok(audioChunks >= 550, `${audioChunks} chunks`);
    assert.ok(most > 2 * 2 * 2000 * 4 * 0.9 && most <= 3 * (2 + 0.05) * 2000 * 4, `${most} bytes of audio kept`);
    assert.equal(survey.finish().calibration?.confident, true);
  });
});
