import assert from "node:assert/strict";
import { simulateDrive } from "../../src/sim/drive.js";
import { runLive } from "../../src/sim/live.js";
import { SimulatedClock } from "../../src/transport/clock.js";
import { InProcessTransport } from "../../src/transport/inprocess.js";
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

describe("sim live output on the in-process transport", function () {
  this.timeout(60_000);

  it("delivers every message with the truth's receive time as the node-clock receive time", async () => {
    const rig = testRig({ durationS: 0.5, lidar: null, cameras: [] });
    const drive = simulateDrive({ rig, seed: 2 });
    const clock = new SimulatedClock({ startNs: drive.startNs - 1n });
    const transport = new InProcessTransport({ clock });
    const publishers = new Map(drive.topics.map((t) => [t.topic, transport.advertise(t.topic, t.type, t.qos)]));
    const received: { topic: string; receiveTime: bigint }[] = [];
    for (const t of drive.topics) {
      transport.subscribeRaw(t.topic, t.type, { history: "keep_all", depth: 100_000, reliability: t.qos.reliability, durability: t.qos.durability }, (m) => received.push({ topic: m.topic, receiveTime: m.receiveTime }));
    }
    const result = await runLive({ drive, speed: Infinity, clock, publish: (topic, _type, data) => publishers.get(topic)!.publish(data) });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await transport.shutdown();
    assert.equal(received.length, result.messages);
    const truth = result.truth!;
    for (const sensor of truth.sensors) {
      const times = received.filter((r) => r.topic === sensor.topic).map((r) => r.receiveTime.toString());
      assert.deepEqual(times, truth.messages[sensor.topic]!.receiveNs, sensor.topic);
    }
  });
});
