/**
 * The rclnodejs adapter's mapping onto rclnodejs, on the in-memory stand-in (fake-rclnodejs.ts):
 * QoS, Buffers, parameter declaration from zod descriptors and ROS overrides, run-time
 * parameter changes, and the signal handler swap. Real ROS 2 behaviour is the contract suite's
 * rclnodejs run, pending where ROS 2 is absent.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { describeParameterSchema } from "../../src/transport/parameters.js";
import type { Transport } from "../../src/transport/port.js";
import type { RclnodejsAdapterModule, RclnodejsTransportOptions } from "../../src/transport/rclnodejs-options.js";
import { loadDefaultRclnodejsAdapter } from "../../src/transport/select.js";
import { payload, RELIABLE, seqOf } from "./contract.js";
import { createFakeRclnodejs, type FakeRclnodejs } from "./fake-rclnodejs.js";

const Schema = z.object({
  output_dir: z.string().default("bags/out"),
  vehicle_id: z.string().meta({ readOnly: true }).default("car0"),
  split_size_mb: z.number().int().min(1).max(65536).default(2048),
  tolerance_s: z.number().gt(0).lt(1).default(0.05),
  rate_hz: z.number().positive().default(10),
  sensors: z.record(z.string(), z.object({ topic: z.string() })).default({}),
});
const described = describeParameterSchema(Schema);

describe("rclnodejs adapter (on the in-memory stand-in)", () => {
  let adapter: RclnodejsAdapterModule;
  let fake: FakeRclnodejs;
  const open: Transport[] = [];
  const warnings: string[] = [];

  before(async () => {
    adapter = await loadDefaultRclnodejsAdapter();
  });
  beforeEach(() => {
    fake = createFakeRclnodejs();
    warnings.length = 0;
  });
  afterEach(async () => {
    for (const t of open.splice(0)) await t.shutdown();
  });

  async function openWith(options: Partial<RclnodejsTransportOptions> = {}): Promise<Transport> {
    const t = await adapter.openRclnodejsTransport({
      nodeName: "syncbag",
      namespace: "/car",
      parameters: {},
      parameterDescriptors: described.descriptors,
      dynamicParameterPrefixes: described.dynamic.map((d) => d.prefix),
      handleSignals: false,
      argv: [],
      warn: (m) => warnings.push(m),
      loadRclnodejs: async () => fake.module,
      ...options,
    });
    open.push(t);
    return t;
  }

  it("maps QoS profiles to rclnodejs QoS (history, depth, reliability, durability)", async () => {
    const t = await openWith();
    t.subscribeRaw("/points", "sensor_msgs/PointCloud2", { history: "keep_last", depth: 5, reliability: "best_effort", durability: "volatile" }, () => undefined);
    t.advertise("/tf_static", "tf2_msgs/TFMessage", { history: "keep_all", depth: 1, reliability: "reliable", durability: "transient_local" });
    const [sensor, latched] = fake.qosCreated;
    assert.deepEqual({ ...sensor }, { history: 1, depth: 5, reliability: 2, durability: 2 });
    assert.deepEqual({ ...latched }, { history: 2, depth: 1, reliability: 1, durability: 1 });
  });

  it("lets a params file override each endpoint's QoS (qos_overrides.<topic>.<entity>.<policy>), and sizes its queue by it", async () => {
    const t = await openWith({
      argv: ["--ros-args", "-p", "qos_overrides./lidar/points.subscription.reliability:=reliable", "-p", "qos_overrides./lidar/points.subscription.depth:=3"],
    });
    const seen: number[] = [];
    const sub = t.subscribeRaw("/lidar/points", "sensor_msgs/PointCloud2", { history: "keep_last", depth: 50, reliability: "best_effort", durability: "volatile" }, (m) => {
      seen.push(seqOf(m.data));
    });
    // A second subscription on the same topic keeps its own QoS, overridable as subscription_2.
    t.subscribeRaw("/lidar/points", "sensor_msgs/PointCloud2", { history: "keep_last", depth: 50, reliability: "best_effort", durability: "volatile" }, () => undefined);
    const [effective, second] = fake.qosCreated;
    assert.equal(effective!.reliability, 1, "reliable, from the override");
    assert.equal(effective!.depth, 3);
    assert.deepEqual({ ...second }, { history: 1, depth: 50, reliability: 2, durability: 2 });
    assert.ok(fake.calls.includes("declare qos_overrides./lidar/points.subscription_2.depth type=2 readOnly"), fake.calls.join("\n"));
    assert.ok(fake.calls.includes("declare qos_overrides./lidar/points.subscription.depth type=2 readOnly"), fake.calls.join("\n"));
    assert.equal("qos_overrides./lidar/points.subscription.depth" in t.parameters(), false, "not a syncbag parameter");
    const pub = t.advertise("/lidar/points", "sensor_msgs/PointCloud2", RELIABLE);
    for (let i = 0; i < 10; i++) pub.publish(payload(i));
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    await t.flush?.();
    // The stand-in hands all ten over before the queue drains: the queue keeps the newest 3.
    assert.deepEqual(seen, [7, 8, 9]);
    assert.equal(sub.dropped, 7);
  });

  it("publishes Uint8Array views as Buffers over the same memory, and resolves names against the node", async () => {
    const t = await openWith();
    const got: Uint8Array[] = [];
    const sub = t.subscribeRaw("points", "sensor_msgs/msg/PointCloud2", RELIABLE, (m) => void got.push(m.data));
    assert.equal(sub.topic, "/car/points");
    const backing = new Uint8Array(64);
    const view = backing.subarray(8, 40);
    view.set(payload(42, 32));
    const pub = t.advertise("points", "sensor_msgs/PointCloud2", RELIABLE);
    assert.equal(pub.topic, "/car/points");
    pub.publish(view);
    const handed = fake.graph.lastPublished;
    assert.ok(handed !== null && handed.buffer === backing.buffer && handed.byteOffset === 8 && handed.byteLength === 32, "no copy on publish");
    for (let i = 0; i < 5 && got.length === 0; i++) await new Promise((resolve) => setImmediate(resolve));
    await t.flush?.();
    assert.equal(got.length, 1);
    assert.ok(Buffer.isBuffer(got[0]), "raw subscriptions hand over Buffers");
    assert.equal(got[0]!.byteLength, 32);
    assert.equal(seqOf(got[0]!), 42);
    assert.deepEqual(t.topics(), [{ topic: "/car/points", type: "sensor_msgs/PointCloud2" }]);
  });

  it("declares schema parameters with type, range and read-only; ROS overrides win, converted to the declared type", async () => {
    const t = await openWith({
      parameters: { output_dir: "/data", split_size_mb: 1024 },
      argv: ["node", "main.js", "--ros-args", "-p", "rate_hz:=20", "-p", "split_size_mb:=512", "-p", "sensors.lidar.topic:=/ouster/points", "-p", "typo_key:=3"],
    });
    const p = t.parameters();
    assert.equal(p.output_dir, "/data", "given value");
    assert.equal(p.split_size_mb, 512, "the ROS override wins over syncbag's value");
    assert.equal(p.rate_hz, 20, "an integer override fills a double parameter");
    assert.equal(p.tolerance_s, 0.05, "schema default");
    assert.equal(p.vehicle_id, "car0");
    assert.equal(p["sensors.lidar.topic"], "/ouster/points", "dynamic subtree from overrides");
    assert.equal("typo_key" in p, false);
    assert.equal("use_sim_time" in p, false, "not a syncbag parameter");
    assert.ok(warnings.some((w) => w.includes("typo_key") && w.includes("ignored")), warnings.join("\n"));
    assert.ok(fake.calls.includes("declare rate_hz type=3 range=0..1.7976931348623157e+308"), fake.calls.join("\n"));
    assert.ok(fake.calls.includes("declare split_size_mb type=2 range=1..65536"), fake.calls.join("\n"));
    assert.ok(fake.calls.includes("declare vehicle_id type=4 readOnly"), fake.calls.join("\n"));
    assert.ok(fake.calls.includes("declare sensors.lidar.topic type=4"), fake.calls.join("\n"));
  });

  it("refuses run-time changes without a validator, and checks them with one", async () => {
    const t = await openWith();
    const node = (t as unknown as { node: { setParameter(p: unknown): { successful: boolean; reason: string } } }).node;
    const Parameter = (fake.module.default as { Parameter: new (n: string, type: number, v: unknown) => unknown }).Parameter;
    const refused = node.setParameter(new Parameter("output_dir", 4, "/elsewhere"));
    assert.equal(refused.successful, false);
    assert.match(refused.reason, /output_dir .*restart/);
    assert.equal(node.setParameter(new Parameter("use_sim_time", 1, true)).successful, true, "rclnodejs's own parameters stay settable");

    const seen: Record<string, unknown>[] = [];
    const applied: Record<string, unknown>[] = [];
    const t2 = await openWith({
      nodeName: "syncbag_two",
      validateParameterChange: (all, changed) => {
        seen.push(all);
        assert.deepEqual(changed, ["output_dir"], "the validator is told which parameters change");
        return all.output_dir === "/forbidden" ? "parameter output_dir: value \"/forbidden\" is not writable" : null;
      },
      applyParameterChange: (changed) => applied.push(changed),
    });
    const node2 = (t2 as unknown as { node: typeof node }).node;
    assert.equal(node2.setParameter(new Parameter("output_dir", 4, "/ok")).successful, true);
    const bad = node2.setParameter(new Parameter("output_dir", 4, "/forbidden"));
    assert.deepEqual(bad, { successful: false, reason: 'parameter output_dir: value "/forbidden" is not writable' });
    assert.equal(seen[0]!.split_size_mb, 2048, "the validator sees every parameter, not only the change");
    assert.deepEqual(applied, [{ output_dir: "/ok" }], "only the accepted change is applied, after ROS stored it");
  });

  it("replaces rclnodejs's SIGINT handler with one that shuts down cleanly, and removes it on shutdown", async () => {
    const before = { int: process.listenerCount("SIGINT"), term: process.listenerCount("SIGTERM") };
    const t = await openWith({ handleSignals: true });
    assert.ok(fake.calls.includes("removeSignalHandlers"));
    assert.equal(process.listenerCount("SIGINT"), before.int + 1);
    assert.equal(process.listenerCount("SIGTERM"), before.term + 1);
    await t.shutdown();
    assert.equal(process.listenerCount("SIGINT"), before.int);
    assert.equal(process.listenerCount("SIGTERM"), before.term);
    assert.deepEqual(fake.calls.slice(-2), ["destroy syncbag", "shutdown"]);
  });

  it("refuses an override outside the schema's range, naming the key and the value", async () => {
    await assert.rejects(
      openWith({ argv: ["--ros-args", "-p", "split_size_mb:=0"] }),
      (e: Error) => e.message.includes("split_size_mb") && e.message.includes("0") && e.message.includes("[1, 65536]"),
    );
    assert.ok(fake.calls.includes("shutdown"), "the rcl context is shut down after a failed start");
  });

  it("subscribes to the remapped topic but labels messages with the name syncbag asked for", async () => {
    const t = await openWith({ argv: ["--ros-args", "-r", "/points:=/ouster/points"] });
    const got: string[] = [];
    const sub = t.subscribeRaw("/points", "sensor_msgs/PointCloud2", RELIABLE, (m) => void got.push(m.topic));
    assert.equal(sub.topic, "/points");
    assert.ok(fake.graph.publishers.size === 0 && [...fake.graph.subscriptions].some((s) => s.topic === "/ouster/points"), "the DDS subscription is on the remapped topic");
    // A driver publishing on the real topic, from another node.
    const driver = await openWith({ nodeName: "ouster_driver", argv: [] });
    driver.advertise("/ouster/points", "sensor_msgs/PointCloud2", RELIABLE).publish(payload(1));
    for (let i = 0; i < 5 && got.length === 0; i++) await new Promise((resolve) => setImmediate(resolve));
    await t.flush?.();
    assert.deepEqual(got, ["/points"]);
  });
});
