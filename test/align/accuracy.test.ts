/**
 * The alignment issue's numbers, asserted on seeded simulated drives: p99 ≤ 2 ms for sensors
 * with a known latency, ≤ 5 ms for the audio (unknown 40 ms latency) once calibrated across
 * modalities, and back within bounds 2 s after a clock step.
 */
import assert from "node:assert/strict";
import { AlignmentStage } from "../../src/align/stage.js";
import { evaluateAlignment, type AlignmentObservation } from "../../src/align/eval.js";
import { alignmentConfigForRig } from "../../src/pipeline/rig-config.js";
import { simulateDrive } from "../../src/sim/drive.js";
import { loadRig, type RigConfig } from "../../src/sim/rig.js";

function run(rig: RigConfig, seed: number, durationS: number) {
  const drive = simulateDrive({ rig, seed, durationS });
  const stage = new AlignmentStage({ config: alignmentConfigForRig(rig) });
  const observations: AlignmentObservation[] = [];
  const audio = rig.audio?.topic;
  let calibratedAtS: number | null = null;
  let frames = 0;
  for (const m of drive) {
    const result = stage.ingest({ topic: m.topic, type: m.type, data: m.data, receiveTime: m.receiveNs });
    frames += result.frames.length;
    if (result.corrected !== null) observations.push({ topic: m.topic, stampNs: m.stampNs, correctedNs: result.corrected });
    if (calibratedAtS === null && rig.audio !== null && stage.clockState(rig.audio.name)?.latencySource === "calibrated") {
      calibratedAtS = Number(m.receiveNs - drive.startNs) / 1e9;
    }
  }
  frames += stage.finish().frames.length;
  const truth = drive.truth();
  const fromS: Record<string, number> = {};
  if (audio !== undefined && calibratedAtS !== null) fromS[audio] = Math.max(10, calibratedAtS);
  return { truth, stage, frames, calibratedAtS, evaluation: evaluateAlignment(truth, observations, { warmupS: 10, fromS }) };
}

function assertWithinBounds(evaluation: ReturnType<typeof evaluateAlignment>): void {
  for (const s of evaluation.sensors) {
    assert.ok(s.compared > 0, `${s.sensor}: nothing compared`);
    assert.ok(s.p99Ms <= s.boundMs, `${s.sensor}: p99 ${s.p99Ms.toFixed(3)} ms > ${s.boundMs} ms`);
  }
}

describe("alignment accuracy on simulated drives", function () {
  this.timeout(120_000);

  for (const [rigName, seed] of [
    ["default", 1],
    ["default", 3],
    ["sample-faulty", 11],
  ] as const) {
    it(`${rigName} rig, seed ${seed}: every sensor within its bound after warm-up, audio after calibration`, () => {
      const rig = loadRig(rigName);
      const { evaluation, calibratedAtS, stage, frames, truth } = run(rig, seed, 24);
      assertWithinBounds(evaluation);
      if (rig.audio !== null && !rig.audio.clock.latencyKnown) {
        assert.notEqual(calibratedAtS, null, "audio latency never calibrated");
        assert.ok(calibratedAtS! < 20, `calibrated only at ${calibratedAtS} s`);
        const state = stage.clockState(rig.audio.name)!;
        assert.ok(Math.abs(state.latencyS - rig.audio.clock.latencyFixedS) < 0.0015, `calibrated latency ${state.latencyS}`);
        assert.ok(state.latencyUncertaintyS > 0 && state.latencyUncertaintyS <= 0.0015, `uncertainty ${state.latencyUncertaintyS}`);
      }
      const sweeps = truth.messages[rig.lidar!.topic]!.stampNs.length;
      assert.equal(frames, sweeps, "one aligned frame per lidar sweep");
    });
  }

  it("default rig with camera (+0.35 s) and CAN (−0.2 s) clock steps at 14 s: back within bounds 2 s later", () => {
    const base = loadRig("default");
    const rig: RigConfig = structuredClone(base);
    rig.cameras[0]!.clock.step = { atS: 14, stepS: 0.35 };
    rig.telemetry!.clock.step = { atS: 14, stepS: -0.2 };
    const { evaluation, stage } = run(rig, 5, 22);
    for (const name of [rig.cameras[0]!.name, rig.telemetry!.name]) assert.equal(stage.clockState(name)!.stepsDetected, 1, `${name}: step detected once`);
    const stepped = evaluation.sensors.filter((s) => s.sensor === rig.cameras[0]!.name || s.sensor === rig.telemetry!.name);
    assert.equal(stepped.length, 2);
    for (const s of stepped) {
      assert.notEqual(s.convergedAfterS, null, `${s.sensor} never back within bounds`);
      assert.ok(s.convergedAfterS! >= 14 && s.convergedAfterS! <= 16, `${s.sensor}: within bounds only from ${s.convergedAfterS} s`);
    }
  });
});
