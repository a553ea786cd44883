import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { evaluateRecording } from "../../src/cli/evaluate.js";
import { pipelineConverter } from "../../src/convert/pipeline-converter.js";
import { openRecording } from "../../src/convert/readers/open.js";
import { inspectMcap } from "../../src/record/inspect.js";
import { simulateDrive } from "../../src/sim/drive.js";
import { writeRosbag2 } from "../../src/sim/rosbag2.js";
import { loadTruth } from "../../src/sim/truth.js";
import { twoStepRig } from "./two-step-rig.js";

describe("two clock steps per sensor through the full converter (issue #20, must-show 2, short form)", function () {
  this.timeout(300_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "syncbag-two-steps-"));
  });
  after(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("the simulator applies each step from its time on, cumulatively, and writes them all in the truth", () => {
    const { rig, steps } = twoStepRig(24, ["camera_front", "can"]);
    const drive = simulateDrive({ rig, seed: 5, durationS: 24 });
    for (const _ of drive);
    const truth = drive.truth();
    for (const [name, planned] of steps) {
      const clock = truth.sensors.find((s) => s.name === name)!.clock;
      assert.deepEqual(
        clock.steps?.map((s) => s.stepS),
        planned.map((s) => s.stepS),
        name,
      );
      assert.equal(clock.step?.stepS, planned[0]!.stepS, `${name}: step is the first one`);
      // Stamps: offset + drift (+ the steps passed), exact to the ns rounding.
      const series = truth.messages[truth.sensors.find((s) => s.name === name)!.topic]!;
      const start = BigInt(truth.startNs);
      for (let i = 0; i < series.stampNs.length; i += 7) {
        const capture = BigInt(series.captureNs[i]!);
        const elapsed = Number(capture - start) / 1e9;
        const passed = (clock.steps ?? []).filter((s) => capture >= BigInt(s.atNs)).reduce((a, s) => a + s.stepS, 0);
        const expected = clock.offsetS + clock.driftPpm * 1e-6 * elapsed + passed;
        assert.ok(Math.abs(Number(BigInt(series.stampNs[i]!) - capture) / 1e9 - expected) < 2e-9, `${name} message ${i}`);
      }
    }
  });

  it("24 s drive, two steps on camera_front (+0.35, −0.12 s) and on CAN (−0.2, +0.08 s): both placed, every message of every sensor within its bound", async () => {
    const { rig, steps } = twoStepRig(24, ["camera_front", "can"]);
    const drive = simulateDrive({ rig, seed: 5, durationS: 24 });
    const bag = await writeRosbag2(drive, { outDir: dir, name: "two-steps", compression: "zstd" });
    const out = join(dir, "converted.mcap");
    const source = await openRecording(join(dir, "two-steps"));
    try {
      await pipelineConverter(source, { mcapPath: out, reportPath: `${out}.json` }, { drive: "two-steps", msgPaths: [], truthPath: bag.truthPath }, () => undefined);
    } finally {
      await source.close();
    }
    // Both steps of each stepped clock found by the hindsight fit (its SensorClockState), none elsewhere.
    const clocks = (await inspectMcap(out)).alignment.clocks;
    for (const c of clocks) assert.equal(c.stepsDetected, steps.get(c.sensor)?.length ?? 0, `${c.sensor}: steps detected`);
    const sensors = (await evaluateRecording(out, await loadTruth(bag.truthPath), { warmupS: 0 })).alignment.sensors;
    for (const s of sensors) {
      assert.ok(s.whole.compared > 0, `${s.sensor}: no message scored`);
      // A step left unplaced keeps the messages on one side of it off by the step (≥ 80 ms here).
      assert.ok(s.whole.maxMs <= s.boundMs, `${s.sensor}: worst ${s.whole.maxMs.toFixed(3)} ms > ${s.boundMs} ms`);
      assert.equal(s.whole.outsideBound, 0, s.sensor);
    }
  });
});
