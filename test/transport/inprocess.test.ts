import assert from "node:assert/strict";
import { SimulatedClock } from "../../src/transport/clock.js";
import { InProcessBus, InProcessTransport, qosIncompatibility } from "../../src/transport/inprocess.js";
import { LATCHED_QOS, SENSOR_DATA_QOS, type QosProfile, type RawMessage } from "../../src/transport/port.js";
import { payload, RELIABLE, seqOf } from "./contract.js";

const VOLATILE_RELIABLE: QosProfile = { history: "keep_last", depth: 10, reliability: "reliable", durability: "volatile" };

describe("in-process transport", () => {
  it("latches transient_local messages for late subscribers, newest `depth`, and forgets them with the publisher", async () => {
    const bus = new InProcessBus();
    const t = new InProcessTransport({ bus });
    const pub = t.advertise("/tf_static", "tf2_msgs/TFMessage", { ...LATCHED_QOS, depth: 2 });
    for (let i = 0; i < 3; i++) pub.publish(payload(i));
    const late: number[] = [];
    t.subscribeRaw("/tf_static", "tf2_msgs/TFMessage", { ...LATCHED_QOS, depth: 5 }, (m) => void late.push(seqOf(m.data)));
    const volatileLate: number[] = [];
    t.subscribeRaw("/tf_static", "tf2_msgs/TFMessage", VOLATILE_RELIABLE, (m) => void volatileLate.push(seqOf(m.data)));
    await t.flush();
    assert.deepEqual(late, [1, 2], "the publisher's last 2 (its depth)");
    assert.deepEqual(volatileLate, [], "a volatile subscriber gets no history");
    pub.close();
    const afterClose: number[] = [];
    t.subscribeRaw("/tf_static", "tf2_msgs/TFMessage", LATCHED_QOS, (m) => void afterClose.push(seqOf(m.data)));
    await t.flush();
    assert.deepEqual(afterClose, []);
  });

  it("merges latched messages of several publishers in publish order, bounded by the subscriber's depth", async () => {
    const t = new InProcessTransport();
    const a = t.advertise("/state", "std_msgs/String", { ...LATCHED_QOS, depth: 3 });
    const b = t.advertise("/state", "std_msgs/String", { ...LATCHED_QOS, depth: 3 });
    a.publish(payload(1));
    b.publish(payload(2));
    a.publish(payload(3));
    b.publish(payload(4));
    const got: number[] = [];
    t.subscribeRaw("/state", "std_msgs/String", { ...LATCHED_QOS, depth: 3 }, (m) => void got.push(seqOf(m.data)));
    await t.flush();
    assert.deepEqual(got, [2, 3, 4]);
  });

  it("does not connect incompatible QoS or different types, and says why", async () => {
    const warnings: string[] = [];
    const t = new InProcessTransport({ warn: (m) => warnings.push(m) });
    const got: string[] = [];
    t.subscribeRaw("/points", "sensor_msgs/PointCloud2", VOLATILE_RELIABLE, () => void got.push("reliable-sub"));
    t.subscribeRaw("/points", "sensor_msgs/PointCloud2", SENSOR_DATA_QOS, () => void got.push("best-effort-sub"));
    t.subscribeRaw("/points", "sensor_msgs/Image", SENSOR_DATA_QOS, () => void got.push("wrong-type"));
    t.advertise("/points", "sensor_msgs/PointCloud2", SENSOR_DATA_QOS).publish(payload(1));
    await t.flush();
    assert.deepEqual(got, ["best-effort-sub"]);
    assert.ok(warnings.some((w) => w.includes("reliable") && w.includes("/points")), warnings.join("\n"));
    assert.ok(warnings.some((w) => w.includes("types differ")), warnings.join("\n"));
    assert.equal(qosIncompatibility(SENSOR_DATA_QOS, VOLATILE_RELIABLE), "the subscriber requests reliable delivery but the publisher offers best_effort");
    assert.match(qosIncompatibility(VOLATILE_RELIABLE, LATCHED_QOS) ?? "", /transient_local/);
    assert.equal(qosIncompatibility(VOLATILE_RELIABLE, SENSOR_DATA_QOS), null);
  });

  it("connects nodes on a shared bus, each stamping receive time with its own clock", async () => {
    const bus = new InProcessBus();
    const simClock = new SimulatedClock({ startNs: 5_000n });
    const recorderClock = new SimulatedClock({ startNs: 9_000n });
    const sim = new InProcessTransport({ bus, nodeName: "sim", clock: simClock });
    const recorder = new InProcessTransport({ bus, nodeName: "recorder", namespace: "/car", clock: recorderClock });
    const got: RawMessage[] = [];
    recorder.subscribeRaw("/lidar/points", "sensor_msgs/PointCloud2", RELIABLE, (m) => void got.push(m));
    sim.advertise("/lidar/points", "sensor_msgs/PointCloud2", RELIABLE).publish(payload(1));
    await bus.idle();
    assert.equal(got.length, 1);
    assert.equal(got[0]!.receiveTime, 9_000n);
    assert.deepEqual(sim.topics(), [{ topic: "/lidar/points", type: "sensor_msgs/PointCloud2" }]);
    sim.serveTrigger("~/pause", () => ({ success: true, message: "sim paused" }));
    assert.deepEqual(await recorder.callTrigger("/sim/pause"), { success: true, message: "sim paused" });
  });

  it("expands names like ROS: relative under the namespace, ~ under the node", async () => {
    const t = new InProcessTransport({ nodeName: "syncbag", namespace: "car1/" });
    assert.equal(t.fullyQualifiedName, "/car1/syncbag");
    assert.equal(t.subscribeRaw("points", "sensor_msgs/PointCloud2", RELIABLE, () => undefined).topic, "/car1/points");
    assert.equal(t.advertise("~/status", "diagnostic_msgs/DiagnosticArray", RELIABLE).topic, "/car1/syncbag/status");
    assert.equal(t.advertise("/abs/x", "std_msgs/String", RELIABLE).topic, "/abs/x");
    assert.throws(() => t.advertise("bad//name", "std_msgs/String", RELIABLE), /bad\/\/name/);
    assert.throws(() => t.advertise("x", "NotAType", RELIABLE), /NotAType/);
    assert.throws(() => new InProcessTransport({ nodeName: "1node" }), /1node/);
    await assert.rejects(t.callTrigger("~/missing"), /no Trigger service \/car1\/syncbag\/missing/);
  });

  it("hands the same buffer to subscribers, or a copy with copyOnPublish", async () => {
    const shared = new InProcessTransport();
    const copying = new InProcessTransport({ copyOnPublish: true });
    for (const [t, same] of [
      [shared, true],
      [copying, false],
    ] as const) {
      const got: Uint8Array[] = [];
      t.subscribeRaw("/x", "std_msgs/String", RELIABLE, (m) => void got.push(m.data));
      const data = payload(9);
      t.advertise("/x", "std_msgs/String", RELIABLE).publish(data);
      data[5] = 0xff; // a publisher that breaks the contract and reuses its buffer
      await t.flush();
      assert.equal(got[0] === data, same);
      assert.equal(seqOf(got[0]!) === 9, !same);
    }
  });

  it("keeps delivering after a handler throws or rejects, counting and reporting the errors", async () => {
    const errors: string[] = [];
    const t = new InProcessTransport({ onHandlerError: (e, topic) => errors.push(`${topic}: ${(e as Error).message}`) });
    const seen: number[] = [];
    const sub = t.subscribeRaw("/x", "std_msgs/String", RELIABLE, async (m) => {
      const seq = seqOf(m.data);
      seen.push(seq);
      if (seq === 1) throw new Error("sync-ish failure");
      if (seq === 2) await Promise.reject(new Error("async failure"));
    });
    const pub = t.advertise("/x", "std_msgs/String", RELIABLE);
    for (let i = 0; i < 4; i++) pub.publish(payload(i));
    await t.flush();
    assert.deepEqual(seen, [0, 1, 2, 3]);
    assert.equal(sub.errors, 2);
    assert.deepEqual(errors, ["/x: sync-ish failure", "/x: async failure"]);
  });

  it("lets a handler publish re-entrantly without starving the event loop", async () => {
    const t = new InProcessTransport();
    const pub = t.advertise("/loop", "std_msgs/String", RELIABLE);
    const cap = 1_000_000;
    let hops = 0;
    let timerRan = false;
    // A feedback loop: each message publishes the next. If delivery drained re-entrant messages
    // in the same turn, the loop would run to the cap before the timer could fire.
    t.subscribeRaw("/loop", "std_msgs/String", RELIABLE, (m) => {
      hops++;
      if (!timerRan && hops < cap) pub.publish(payload(seqOf(m.data) + 1));
    });
    setTimeout(() => (timerRan = true), 5);
    pub.publish(payload(0));
    while (!timerRan) await new Promise((resolve) => setTimeout(resolve, 5));
    await t.flush();
    assert.ok(hops > 1 && hops < cap, `${hops} hops before the timer stopped the loop`);
  });

  it("drops the oldest, not the newest, when one subscriber is slow and counts it on that subscriber only", async () => {
    const t = new InProcessTransport();
    const qos = { ...RELIABLE, depth: 3 };
    const slowSeen: number[] = [];
    const fastSeen: number[] = [];
    const slow = t.subscribeRaw("/cam", "sensor_msgs/Image", qos, async (m) => {
      slowSeen.push(seqOf(m.data));
      await new Promise((resolve) => setTimeout(resolve, 10));
    });
    const fast = t.subscribeRaw("/cam", "sensor_msgs/Image", qos, (m) => void fastSeen.push(seqOf(m.data)));
    const pub = t.advertise("/cam", "sensor_msgs/Image", qos);
    for (let i = 0; i < 10; i++) {
      pub.publish(payload(i));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await t.flush();
    assert.deepEqual(fastSeen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(fast.dropped, 0);
    assert.equal(slow.dropped + slow.delivered, 10);
    assert.ok(slow.dropped > 0);
    assert.equal(slowSeen[slowSeen.length - 1], 9, "the newest message survives");
    assert.ok(slow.highWater <= 3);
  });

  it("refuses use after shutdown and reports failing shutdown callbacks after running them all", async () => {
    const t = new InProcessTransport();
    const ran: string[] = [];
    t.onShutdown(() => {
      ran.push("a");
      throw new Error("recorder could not close");
    });
    t.onShutdown(() => void ran.push("b"));
    await assert.rejects(t.shutdown(), (e: AggregateError) => e.errors.length === 1 && /recorder could not close/.test((e.errors[0] as Error).message));
    assert.deepEqual(ran, ["a", "b"]);
    assert.equal(t.isShutdown, true);
    assert.throws(() => t.subscribeRaw("/x", "std_msgs/String", RELIABLE, () => undefined), /shut down/);
    assert.throws(() => t.advertise("/x", "std_msgs/String", RELIABLE), /shut down/);
  });

  it("refuses a QoS depth below 1", () => {
    const t = new InProcessTransport();
    assert.throws(() => t.subscribeRaw("/x", "std_msgs/String", { ...RELIABLE, depth: 0 }, () => undefined), /depth 0/);
  });
});

describe("SimulatedClock", () => {
  it("moves only when set or advanced, and never backward", () => {
    const c = new SimulatedClock({ startNs: 100n });
    assert.equal(c.now(), 100n);
    c.set(250n);
    c.advance(50n);
    assert.equal(c.now(), 300n);
    assert.throws(() => c.set(299n), /monotonic/);
    assert.throws(() => c.advance(-1n), /negative/);
    const lenient = new SimulatedClock({ startNs: 10n, onBackward: "ignore" });
    lenient.set(5n);
    assert.equal(lenient.now(), 10n);
  });
});
