import assert from "node:assert/strict";
import { AlignmentEvalSection, type EvalMessage } from "../../src/align/eval.js";
import { HindsightSurvey } from "../../src/align/hindsight.js";
import { AlignmentStage } from "../../src/align/stage.js";
import { UnconvergedCounter, unconvergedIntervals, type ClockStateView } from "../../src/align/unconverged.js";
import { defaultCodec } from "../../src/messages/codec.js";
import { readStamp } from "../../src/messages/stamp.js";
import { alignmentConfigForRig } from "../../src/pipeline/rig-config.js";
import { simulateDrive, type SimMessage } from "../../src/sim/drive.js";
import { loadRig } from "../../src/sim/rig.js";
import type { TruthFile } from "../../src/sim/truth.js";

const S = 1_000_000_000n;

describe("messages stamped before a clock model converged", function () {
  this.timeout(120_000);

  it("counter and intervals: judged by the last state before each message, the first state judging what came before it", () => {
    const state = (confidence: number, latency_source = "configured"): ClockStateView => ({ sensor: "cam", topic: "/cam", mode: "estimate", confidence, latency_source });
    // 10 Hz messages 0..5.9 s; states at 1 s (0.2), 2 s (0.8), 3 s (0.1: a step), 4 s (0.9), 5 s (0.9 but latency unknown).
    const states = [
      { logTimeNs: 1n * S, state: state(0.2) },
      { logTimeNs: 2n * S, state: state(0.8) },
      { logTimeNs: 3n * S, state: state(0.1) },
      { logTimeNs: 4n * S, state: state(0.9) },
      { logTimeNs: 5n * S, state: state(0.9, "none") },
    ];
    const counter = new UnconvergedCounter();
    let next = 0;
    for (let i = 0; i < 60; i++) {
      const t = (BigInt(i) * S) / 10n + 1n; // just after a state that shares its tick
      while (next < states.length && states[next]!.logTimeNs <= t) counter.state(states[next++]!.state);
      counter.message("/cam", t);
      counter.message("/other", t);
    }
    const [row, ...rest] = counter.result();
    assert.equal(rest.length, 0, "only topics with clock states are sensors");
    // Unconverged: 0–2 s (before and after the 0.2 state), 3–4 s (step), 5–6 s (latency pending): 20 + 10 + 10.
    assert.equal(row!.messages, 40);
    assert.equal(row!.firstNs, 1n);
    assert.equal(row!.lastNs, (59n * S) / 10n + 1n);
    const intervals = unconvergedIntervals(states).get("/cam")!.intervals;
    assert.deepEqual(intervals, [
      { fromNs: null, toNs: 2n * S },
      { fromNs: 3n * S, toNs: 4n * S },
      { fromNs: 5n * S, toNs: null },
    ]);
    // A stricter threshold makes the 0.8 state unconverged too.
    assert.equal(counter.result(0.85)[0]!.messages, 50);
  });

  describe("eval on a simulated drive (sample-step rig, 14 s): online vs hindsight times", () => {
    const rig = loadRig("sample-step");
    const codec = defaultCodec();
    let truth: TruthFile;
    const runs: Record<"online" | "hindsight", EvalMessage[]> = { online: [], hindsight: [] };

    before(() => {
      const drive = simulateDrive({ rig, seed: 3, durationS: 14 });
      const messages: SimMessage[] = [...drive];
      truth = drive.truth();
      for (const kind of ["online", "hindsight"] as const) {
        let hindsight;
        if (kind === "hindsight") {
          const survey = new HindsightSurvey(alignmentConfigForRig(rig));
          for (const m of messages) survey.observe({ topic: m.topic, type: m.type, data: m.data, receiveTime: m.receiveNs });
          hindsight = survey.finish();
        }
        const stage = new AlignmentStage({ config: alignmentConfigForRig(rig), ...(hindsight === undefined ? {} : { hindsight }) });
        const out = runs[kind];
        const record = (outputs: { topic: string; schemaName: string; data: Uint8Array; logTime: bigint; publishTime: bigint }[]): void => {
          for (const o of outputs) out.push({ topic: o.topic, type: o.schemaName, data: o.data, logTimeNs: o.logTime, publishTimeNs: o.publishTime });
        };
        for (const m of messages) {
          const r = stage.ingest({ topic: m.topic, type: m.type, data: m.data, receiveTime: m.receiveNs });
          if (r.corrected !== null) out.push({ topic: m.topic, type: m.type, data: m.data, logTimeNs: m.receiveNs, publishTimeNs: r.corrected });
          record(r.outputs);
        }
        record(stage.finish().outputs);
      }
    });

    const evaluate = (kind: "online" | "hindsight", judge: "whole" | "after-warmup") => {
      const section = new AlignmentEvalSection(truth, { readStamp, decode: (type, data) => codec.decode(type, data) }, { warmupS: 6, judge });
      for (const m of runs[kind]) section.add(m);
      return { ...section.finish(), result: section.result() };
    };

    it("online: the verdict is taken on the whole drive by default (the microphone's uncalibrated start fails it), after the warm-up only when asked", () => {
      const whole = evaluate("online", "whole");
      const mic = whole.result.alignment.sensors.find((s) => s.sensor === "microphone")!;
      assert.ok(mic.whole.p99Ms > mic.boundMs && mic.withinBound, `microphone whole p99 ${mic.whole.p99Ms}, after warm-up ${mic.p99Ms}`);
      assert.equal(whole.ok, false);
      assert.match(whole.text, /verdict \(whole drive, p99 within bound\): NOT ok/);
      const after = evaluate("online", "after-warmup");
      assert.equal(after.ok, true);
      assert.match(after.text, /verdict \(after 6 s warm-up, p99 within bound\): ok/);
    });

    it("online: every sensor has messages stamped before its model converged, the microphone's until its calibration", () => {
      const { result, text } = evaluate("online", "whole");
      assert.equal(result.unconverged.length, truth.sensors.length);
      const origin = BigInt(truth.startNs);
      for (const u of result.unconverged) assert.ok(u.messages > 0 && u.firstNs !== null && Number(u.firstNs - origin) / 1e9 < 0.5, `${u.sensor}: ${u.messages} from ${u.firstNs}`);
      const mic = result.unconverged.find((u) => u.sensor === "microphone")!;
      const micLast = Number(mic.lastNs! - origin) / 1e9;
      // Calibrated some seconds in; every other sensor in estimate mode converges within ~5 s (minDriftSpanS).
      assert.ok(micLast > 2 && micLast < 12, `microphone unconverged until ${micLast} s`);
      assert.match(text, /stamped before the clock model converged \(per clock state/);
    });

    it("hindsight: none stamped before convergence, and the whole-drive verdict passes", () => {
      const whole = evaluate("hindsight", "whole");
      assert.equal(whole.result.unconverged.length, truth.sensors.length);
      for (const u of whole.result.unconverged) assert.equal(u.messages, 0, u.sensor);
      assert.match(whole.text, /stamped before the clock model converged: none/);
      assert.equal(whole.ok, true, whole.text);
    });
  });
});
