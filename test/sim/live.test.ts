import assert from "node:assert/strict";
import { simulateDrive } from "../../src/sim/drive.js";
import { runLive } from "../../src/sim/live.js";
import { testRig } from "./fixture.js";

describe("sim live output", function () {
  this.timeout(60_000);
  const rig = testRig({ durationS: 0.6, lidar: null, cameras: [] });

  it("publishes every message in arrival order with the clock set to its receive time", async () => {
    const reference = [...simulateDrive({ rig, seed: 9 })];
    const published: { topic: string; data: Uint8Array; clock: bigint }[] = [];
    let clock = 0n;
    const result = await runLive({
      drive: simulateDrive({ rig, seed: 9 }),
      speed: Infinity,
      clock: { set: (ns) => (clock = ns) },
      publish: (topic, _type, data) => published.push({ topic, data, clock }),
    });
    assert.equal(result.messages, reference.length);
    assert.equal(published.length, reference.length);
    for (let i = 0; i < reference.length; i++) {
      assert.equal(published[i]!.topic, reference[i]!.topic);
      assert.equal(published[i]!.clock, reference[i]!.receiveNs);
      assert.deepEqual(published[i]!.data, reference[i]!.data);
    }
    assert.ok(result.truth !== null && result.truth.messages["/sensing/imu/imu_raw"]!.stampNs.length > 50);
  });

  it("paces by receive time on the injected wall clock and stops on abort", async () => {
    const controller = new AbortController();
    let wall = 0;
    let published = 0;
    const result = await runLive({
      drive: simulateDrive({ rig, seed: 9 }),
      speed: 1000,
      now: () => wall,
      clock: { set: () => undefined },
      publish: () => {
        published++;
        // Each publish advances the fake wall clock; past 0.3 s of drive time (0.3 ms at 1000×) abort.
        wall += 0.002;
        if (wall > 0.3) controller.abort();
      },
      signal: controller.signal,
    });
    assert.ok(result.aborted);
    assert.equal(result.truth, null);
    assert.equal(result.messages, published);
    assert.ok(published > 50 && published < 400, `${published} published before abort`);
  });
});
