import assert from "node:assert/strict";
import { AlignmentStage } from "../../src/align/stage.js";
import { AlignmentEvalSection, evaluateAlignment, type AlignmentObservation, type EvalMessage } from "../../src/align/eval.js";
import { defaultCodec } from "../../src/messages/codec.js";
import { readStamp } from "../../src/messages/stamp.js";
import { alignmentConfigForRig } from "../../src/pipeline/rig-config.js";
import { simulateDrive } from "../../src/sim/drive.js";
import { loadRig } from "../../src/sim/rig.js";
import type { TruthFile } from "../../src/sim/truth.js";

describe("alignment evaluation", function () {
  this.timeout(60_000);
  const rig = loadRig("sample-step");
  const codec = defaultCodec();
  let truth: TruthFile;
  const recorded: EvalMessage[] = [];
  const observations: AlignmentObservation[] = [];
  let framesEmitted = 0;
  let stage: AlignmentStage;

  before(() => {
    // What the recorder writes: sensor messages with publish_time = corrected capture time, plus the stage's outputs.
    const drive = simulateDrive({ rig, seed: 3, durationS: 14 });
    stage = new AlignmentStage({ config: alignmentConfigForRig(rig) });
    const record = (outputs: { topic: string; schemaName: string; data: Uint8Array; logTime: bigint; publishTime: bigint }[]): void => {
      for (const o of outputs) recorded.push({ topic: o.topic, type: o.schemaName, data: o.data, logTimeNs: o.logTime, publishTimeNs: o.publishTime });
    };
    for (const m of drive) {
      const r = stage.ingest({ topic: m.topic, type: m.type, data: m.data, receiveTime: m.receiveNs });
      if (r.corrected !== null) {
        recorded.push({ topic: m.topic, type: m.type, data: m.data, logTimeNs: m.receiveNs, publishTimeNs: r.corrected });
        observations.push({ topic: m.topic, stampNs: m.stampNs, correctedNs: r.corrected });
      }
      framesEmitted += r.frames.length;
      record(r.outputs);
    }
    const end = stage.finish();
    framesEmitted += end.frames.length;
    record(end.outputs);
    truth = drive.truth();
  });

  it("reads stamps back from the bytes and agrees with evaluateAlignment on the same triples", () => {
    const section = new AlignmentEvalSection(truth, { readStamp, decode: (type, data) => codec.decode(type, data) }, { warmupS: 6 });
    for (const m of recorded) section.add(m);
    const result = section.result();
    const direct = evaluateAlignment(truth, observations, { warmupS: 6 });
    for (const s of result.alignment.sensors) {
      const d = direct.sensors.find((x) => x.topic === s.topic)!;
      assert.equal(s.matched, d.matched, s.sensor);
      assert.equal(s.unmatched, 0, `${s.sensor}: every stamp found in the truth`);
      if (s.latencyKnown) assert.equal(s.p99Ms, d.p99Ms, s.sensor);
    }
    assert.equal(result.frames.frames, framesEmitted);
    assert.ok(result.frames.byFlag.INTERPOLATED! > 0);
    assert.equal(result.calibrations.length, 1, "the microphone's calibrated latency is reported");
    assert.ok(Math.abs(result.calibrations[0]!.latencyS - 0.04) < 0.0015, `calibrated ${result.calibrations[0]!.latencyS}`);
  });

  it("sample-step rig: both stepped clocks detected, every sensor within its bound after 6 s, and the table says so", () => {
    // The online models' steady state: judged after the warm-up (the default verdict is the whole drive, test/align/unconverged.test.ts).
    const section = new AlignmentEvalSection(truth, { readStamp, decode: (type, data) => codec.decode(type, data) }, { warmupS: 6, judge: "after-warmup" });
    for (const m of recorded) section.add(m);
    const out = section.finish();
    const result = section.result();
    assert.equal(stage.clockState("camera_front")!.stepsDetected, 1);
    assert.equal(stage.clockState("can")!.stepsDetected, 1);
    assert.equal(stage.clockState("lidar_top")!.stepsDetected, 0);
    for (const s of result.alignment.sensors) {
      assert.ok(s.compared > 0, s.sensor);
      assert.ok(s.p99Ms <= s.boundMs, `${s.sensor}: p99 ${s.p99Ms.toFixed(3)} ms > ${s.boundMs}`);
    }
    // The steps happen at 2.0 s: within bounds again at most 2 s later.
    for (const name of ["camera_front", "can"]) {
      const s = result.alignment.sensors.find((x) => x.sensor === name)!;
      assert.ok(s.convergedAfterS !== null && s.convergedAfterS <= 4, `${name} within bounds only from ${s.convergedAfterS} s`);
    }
    assert.equal(out.ok, true);
    assert.match(out.text, /camera_front +yes/);
    assert.match(out.text, /calibrated latency: microphone/);
  });

  it("counts unreadable messages without failing", () => {
    const section = new AlignmentEvalSection(truth, { readStamp, decode: (type, data) => codec.decode(type, data) });
    section.add({ topic: truth.sensors[0]!.topic, type: "sensor_msgs/PointCloud2", data: new Uint8Array([0, 1, 0, 0, 9]), logTimeNs: 0n, publishTimeNs: 0n });
    section.add({ topic: "/syncbag/frames", type: "syncbag/AlignedFrame", data: new Uint8Array(3), logTimeNs: 0n, publishTimeNs: 0n });
    assert.equal(section.skipped, 2);
    assert.equal(section.result().frames.frames, 0);
    assert.equal(section.result().frames.byFlag.MISSING, 0);
  });
});
