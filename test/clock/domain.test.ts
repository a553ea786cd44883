import assert from "node:assert/strict";
import { HindsightSurvey } from "../../src/align/hindsight.js";
import { AlignmentStage } from "../../src/align/stage.js";
import { foreignDomainWarning } from "../../src/clock/domain.js";
import { ClockModel } from "../../src/clock/model.js";
import { defaultCodec } from "../../src/messages/codec.js";

// Issue 17 item 12: header stamps in a time domain that cannot be the sensor's clock (ROS sim
// time) fall back to arrival times with a named warning, instead of being "corrected" into steps.

/** Receive time: 2026 wall clock, as a recorder's log time. */
const WALL0 = 1_780_000_000_000_000_000n;
const PERIOD_S = 0.02;

interface Pair {
  stampNs: bigint;
  receiveNs: bigint;
}

/** Seeded uniform (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * 50 Hz for `seconds` of wall time; capture at wall time w has stamp stamp(w) (s); receive =
 * capture + 5 ms + exponential jitter (mean 2 ms).
 */
function series(seconds: number, stampAt: (wallS: number) => number, seed: number): Pair[] {
  const random = prng(seed);
  const out: Pair[] = [];
  for (let w = 0; w < seconds; w += PERIOD_S) {
    if (Number.isNaN(stampAt(w))) continue; // a paused simulation publishes nothing
    const receiveS = w + 0.005 - 0.002 * Math.log(1 - random());
    out.push({ stampNs: BigInt(Math.round(stampAt(w) * 1e9)), receiveNs: WALL0 + BigInt(Math.round(receiveS * 1e9)) });
  }
  return out;
}

/** Gazebo-like sim time: starts at `startS`, runs at real-time factor `rtf`, paused (no messages) for 3 s at 20 s. */
function simTime(startS: number, rtf: number): (w: number) => number {
  return (w) => (w < 20 ? startS + rtf * w : w < 23 ? NaN : startS + rtf * (w - 3));
}

const WARNING = /^clock: sensor imu header stamps are in another time domain \(.*; offset −1\.78e9 s ≈ 56 years\); using arrival times$/;

describe("clock: stamps in another time domain", () => {
  for (const [startS, rtf] of [
    [0, 0.93],
    [1000, 0.5],
    [0, 1.04],
  ] as const) {
    it(`online model: sim time from ${startS} s at real-time factor ${rtf} falls back to arrival, no steps`, () => {
      const model = new ClockModel();
      let arrivalAfterVerdict = 0;
      let after = 0;
      for (const p of series(60, simTime(startS, rtf), 7)) {
        const corrected = model.observe(p.stampNs, p.receiveNs);
        if (model.foreignDomain !== null) {
          after++;
          if (corrected === p.receiveNs) arrivalAfterVerdict++;
        }
      }
      const state = model.state();
      assert.ok(state.foreignDomain !== undefined, `not recognised: mode ${state.mode}, steps ${state.stepsDetected}, confidence ${state.confidence.toFixed(2)}`);
      assert.equal(state.mode, "arrival");
      assert.equal(state.stepsDetected, 0);
      assert.ok(after > 2000, `verdict only after ${3000 - after} messages`);
      assert.equal(arrivalAfterVerdict, after, "every message after the verdict is timed by arrival");
      assert.match(foreignDomainWarning("imu", state.foreignDomain), WARNING);
    });
  }

  it("online model: a free-running device clock counting from power-on (decades off, 50 ppm, one 0.3 s step) stays estimated", () => {
    // What `estimate` is for: the offset alone must not make it a foreign domain.
    const model = new ClockModel();
    for (const p of series(60, (w) => 12.5 + w * (1 + 50e-6) + (w >= 30 ? 0.3 : 0), 11)) model.observe(p.stampNs, p.receiveNs);
    const state = model.state();
    assert.equal(state.foreignDomain, undefined);
    assert.equal(state.mode, "estimate");
    assert.equal(state.stepsDetected, 1);
    assert.ok(Math.abs(state.driftPpm - 50) < 20, `drift ${state.driftPpm}`);
  });

  describe("hindsight (conversion's first pass)", () => {
    const codec = defaultCodec();
    const config = { sensors: [{ name: "imu", topic: "/imu", type: "geometry_msgs/msg/PointStamped", modality: "imu" }] };
    const encode = (stampNs: bigint): Uint8Array =>
      codec.encode("geometry_msgs/msg/PointStamped", {
        header: { stamp: { sec: Number(stampNs / 1_000_000_000n), nanosec: Number(stampNs % 1_000_000_000n) }, frame_id: "imu" },
        point: { x: 0, y: 0, z: 0 },
      });
    const clockMessage = (ns: bigint): Uint8Array => {
      const bytes = new Uint8Array(12);
      bytes[1] = 1; // CDR little-endian
      const view = new DataView(bytes.buffer);
      view.setInt32(4, Number(ns / 1_000_000_000n), true);
      view.setUint32(8, Number(ns % 1_000_000_000n), true);
      return bytes;
    };

    /** `simClock`: the /clock value published beside each fifth message (null: no /clock). */
    function run(pairs: Pair[], simClock: ((p: Pair) => bigint) | null): { stage: AlignmentStage; warnings: string[]; exact: number } {
      const survey = new HindsightSurvey(config);
      const messages = pairs.map((p) => ({ topic: "/imu", type: "geometry_msgs/msg/PointStamped", data: encode(p.stampNs), receiveTime: p.receiveNs }));
      for (const [i, m] of messages.entries()) {
        survey.observe(m);
        if (simClock !== null && i % 5 === 0) survey.observe({ topic: "/clock", type: "rosgraph_msgs/msg/Clock", data: clockMessage(simClock(pairs[i]!)), receiveTime: m.receiveTime });
      }
      const hindsight = survey.finish();
      const stage = new AlignmentStage({ config, hindsight });
      let exact = 0;
      for (const m of messages) if (stage.ingest(m).corrected === m.receiveTime) exact++;
      stage.finish();
      return { stage, warnings: hindsight.warnings, exact };
    }

    it("sim time at real-time factor 0.93 from 0 s: arrival times, no steps, one warning", () => {
      const pairs = series(60, simTime(0, 0.93), 5);
      const { stage, warnings, exact } = run(pairs, null);
      const state = stage.clockState("imu")!;
      assert.equal(state.mode, "arrival");
      assert.equal(state.stepsDetected, 0);
      assert.equal(exact, pairs.length);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, WARNING);
      assert.match(warnings[0]!, /advance 0\.9\d\d s per s of receive time/);
    });

    it("sim time at real-time factor 1 with no pause is only told by /clock in the recording", () => {
      const pairs = series(40, (w) => 1000 + w, 9);
      assert.equal(run(pairs, null).warnings.length, 0, "a steady clock without /clock is a clock (estimate handles its offset)");
      const { stage, warnings } = run(pairs, (p) => p.stampNs);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /ROS sim time of \/clock/);
      assert.match(warnings[0]!, WARNING);
      assert.equal(stage.clockState("imu")!.stepsDetected, 0);
    });

    it("a device clock with steps is still fitted, not sent to arrival", () => {
      const pairs = series(60, (w) => 12.5 + w * (1 - 40e-6) + (w >= 25 ? -0.2 : 0) + (w >= 41 ? 0.5 : 0), 3);
      // /clock in the recording too, in its own domain (here: wall time): the device stamps are not in it.
      const { stage, warnings } = run(pairs, (p) => p.receiveNs - 3_600_000_000_000n);
      assert.deepEqual(warnings, []);
      const state = stage.clockState("imu")!;
      assert.equal(state.mode, "estimate");
      assert.equal(state.stepsDetected, 2);
    });
  });
});
