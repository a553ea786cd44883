/** Issue 17 item 13: `npm run bench` exits non-zero (2) when a figure misses its target. */
import assert from "node:assert/strict";
import { benchSummary, type BenchFigure } from "../../bench/harness.js";

const figure = (name: string, met: boolean | null): BenchFigure => ({
  name,
  value: 1,
  unit: "MB/s",
  baseline: { name: "b", value: 1, unit: "MB/s" },
  ratio: 1,
  ...(met === null ? {} : { target: { text: "ratio ≥ 2", met } }),
});

describe("cli/bench-exit: the bench's exit status", function () {
  it("is 2 and names the figure when one misses its target", () => {
    const s = benchSummary([figure("a", true), figure("slow path", false), figure("c", null)]);
    assert.equal(s.exitCode, 2);
    assert.equal(s.line, "3 figures, 1 below target: slow path (ratio ≥ 2)");
  });
  it("is 0 when every target is met", () => {
    assert.equal(benchSummary([figure("a", true), figure("c", null)]).exitCode, 0);
  });
  it("bench/run.ts sets the exit status from it", async () => {
    const { readFile } = await import("node:fs/promises");
    assert.match(await readFile(new URL("../../bench/run.ts", import.meta.url), "utf8"), /process\.exitCode = summary\.exitCode/);
  });
});
