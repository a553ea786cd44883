import assert from "node:assert/strict";
import { AlignmentEvalSection } from "../../src/align/eval.js";
import { SampleFlag } from "../../src/align/types.js";
import type { TruthFile } from "../../src/sim/truth.js";

// Issue 17 item 13: "flagged samples N (…)" must add up, and INTERPOLATED is not a flag.
describe("alignment evaluation: flagged-sample breakdown", () => {
  it("counts each flagged sample once by its set of flags and lists INTERPOLATED apart", () => {
    const truth = { startNs: "0", sensors: [] } as unknown as TruthFile;
    const { OUT_OF_TOLERANCE, INTERPOLATED, MISSING, STALE } = SampleFlag;
    // Two frames: one sample with two flags, interpolated samples with and without a flag.
    const frames = [
      { samples: [{ flags: OUT_OF_TOLERANCE | STALE }, { flags: INTERPOLATED }, { flags: 0 }], max_abs_residual: 0.01 },
      { samples: [{ flags: MISSING }, { flags: INTERPOLATED | OUT_OF_TOLERANCE }, { flags: INTERPOLATED }], max_abs_residual: 0.002 },
    ];
    let next = 0;
    const section = new AlignmentEvalSection(truth, { readStamp: () => 0n, decode: () => frames[next++] });
    for (let i = 0; i < frames.length; i++) section.add({ topic: "/syncbag/frames", type: "syncbag/AlignedFrame", data: new Uint8Array(0), logTimeNs: BigInt(i), publishTimeNs: BigInt(i) });
    const out = section.finish();
    const line = out.text.split("\n").find((l) => l.startsWith("frames "));
    assert.ok(line !== undefined, out.text);
    const m = /flagged samples (\d+) \(([^)]*)\)/.exec(line);
    assert.ok(m !== null, line);
    assert.equal(Number(m[1]), 3);
    const parts = m[2]!.split(", ").map((p) => /^([A-Z_+]+) (\d+)$/.exec(p)!);
    assert.equal(
      parts.reduce((n, p) => n + Number(p[2]), 0),
      3,
      `breakdown adds up: ${line}`,
    );
    assert.ok(!parts.some((p) => p[1]!.includes("INTERPOLATED")), `INTERPOLATED listed as a flag: ${line}`);
    assert.deepEqual(Object.fromEntries(parts.map((p) => [p[1], Number(p[2])])), { "OUT_OF_TOLERANCE+STALE": 1, MISSING: 1, OUT_OF_TOLERANCE: 1 });
    assert.match(line, /interpolated 3 \(not a flag\)/);
    const json = section.result().frames;
    assert.equal(
      Object.values(json.flaggedBy).reduce((a, b) => a + b, 0),
      json.flaggedSamples,
    );
  });
});
