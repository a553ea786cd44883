import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simulateDrive } from "../../src/sim/drive.js";
import { Prng } from "../../src/sim/prng.js";
import { writeRosbag2 } from "../../src/sim/rosbag2.js";
import { testRig } from "./fixture.js";

describe("sim determinism", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "syncbag-sim-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const rig = testRig({ durationS: 1.2 });
  async function record(seed: number, name: string): Promise<{ mcap: Buffer; truth: string }> {
    const result = await writeRosbag2(simulateDrive({ rig, seed, name: "d" }), { outDir: join(dir, name), name: "d" });
    return { mcap: await readFile(result.mcapPath), truth: await readFile(result.truthPath, "utf8") };
  }
  const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

  it("writes a byte-identical MCAP and truth for the same seed", async () => {
    const a = await record(5, "a");
    const b = await record(5, "b");
    assert.ok(a.mcap.length > 100_000);
    assert.equal(sha(a.mcap), sha(b.mcap));
    assert.equal(a.truth, b.truth);
  });

  it("gives a different scenario and recording for a different seed", async () => {
    const a = await record(5, "c");
    const b = await record(6, "e");
    assert.notEqual(sha(a.mcap), sha(b.mcap));
    const ta = JSON.parse(a.truth) as { actors: { track: { x: number }[] }[] };
    const tb = JSON.parse(b.truth) as { actors: { track: { x: number }[] }[] };
    assert.notDeepEqual(
      ta.actors.map((x) => x.track[0]!.x),
      tb.actors.map((x) => x.track[0]!.x),
    );
  });

  it("seeds independent PRNG streams per name", () => {
    const a = Prng.stream(1, "lidar");
    const b = Prng.stream(1, "lidar");
    const c = Prng.stream(1, "camera");
    const xs = Array.from({ length: 5 }, () => a.nextU32());
    assert.deepEqual(xs, Array.from({ length: 5 }, () => b.nextU32()));
    assert.notDeepEqual(xs, Array.from({ length: 5 }, () => c.nextU32()));
    const n = Prng.stream(3, "n");
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < 20000; i++) {
      const v = n.normal();
      sum += v;
      sq += v * v;
    }
    assert.ok(Math.abs(sum / 20000) < 0.03);
    assert.ok(Math.abs(sq / 20000 - 1) < 0.05);
  });
});
