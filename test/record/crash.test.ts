import assert from "node:assert/strict";
import { crashRound } from "./fixtures/crash-round.js";
import { prng, tempDir } from "./helpers.js";

// Ten rounds here; `npx tsx test/record/crash-soak.ts 300` runs hundreds.
describe("record/kill -9 then recover", () => {
  it("every round: a valid file holding all messages of complete chunks, losing at most one second", async function () {
    this.timeout(120_000);
    const { dir, cleanup } = tempDir();
    try {
      const random = prng(20261122);
      const results = [];
      for (let round = 0; round < 10; round++) {
        const killAfterMs = 150 + (random() % 900);
        const compression = ["zstd", "lz4", "none"][round % 3]!;
        const result = await crashRound(dir, round, killAfterMs, { compression });
        results.push(result);
        assert.deepEqual(result.problems, [], `round ${round} (${compression}, killed after ${killAfterMs} ms)`);
      }
      assert.ok(results.filter((r) => r.recovered > 0).length >= 8, "most rounds were killed after a first flush");
      // The kill lands mid-file, not at a clean end: the recovered files were really cut.
      assert.ok(results.every((r) => !r.report.inputComplete));
    } finally {
      cleanup();
    }
  });
});
