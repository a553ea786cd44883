/**
 * The transport contract: what every adapter of src/transport/port.ts must do, as one mocha
 * suite run against each adapter (contract.test.ts). Adapters differ only where a middleware
 * legitimately may (exactQueueing: over DDS the reader may drop before syncbag's queue sees a
 * message, so counts are checked as bounds, not exact values).
 */
import assert from "node:assert/strict";
import { z } from "zod";
import type { SimulatedClock } from "../../src/transport/clock.js";
import { zodToParameterDescriptors, type ParameterDescriptorSpec } from "../../src/transport/parameters.js";
import type { ParameterValue, QosProfile, RawMessage, Transport } from "../../src/transport/port.js";

export interface ContractOpenOptions {
  nodeName: string;
  namespace?: string;
  parameters?: Record<string, ParameterValue>;
  parameterDescriptors?: readonly ParameterDescriptorSpec[];
}

export interface ContractTarget {
  name: string;
  /** Why the adapter cannot run here, or null. A reason skips the suite (reported pending). */
  unavailable: string | null;
  open(options: ContractOpenOptions): Promise<Transport>;
  /** Drop counts are exact (in-process) rather than bounds (DDS). */
  exactQueueing: boolean;
  /** A clock the test can drive, when the adapter's node clock is simulated. */
  simulatedClock?: () => SimulatedClock;
}

export const RELIABLE: QosProfile = { history: "keep_last", depth: 100, reliability: "reliable", durability: "volatile" };

/** A CDR-looking payload (little-endian encapsulation header) carrying a sequence number. */
export function payload(seq: number, size = 16): Uint8Array {
  const bytes = new Uint8Array(Math.max(size, 8));
  bytes.set([0x00, 0x01, 0x00, 0x00]);
  new DataView(bytes.buffer).setUint32(4, seq, true);
  return bytes;
}

export function seqOf(data: Uint8Array): number {
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(4, true);
}

/** Polls until `condition` holds (settling first when the transport can), or fails after `timeoutMs`. */
export async function eventually(transport: Transport, condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await transport.flush?.();
    if (condition()) return;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const ParamSchema = z.object({
  output_dir: z.string().default("bags/out").describe("where recordings go"),
  split_size_mb: z.number().int().min(1).max(65536).default(2048),
  tolerance_s: z.number().gt(0).lt(1).default(0.05),
  record: z.object({ compression: z.enum(["none", "zstd", "lz4"]).default("zstd") }).default({ compression: "zstd" }),
  sensors: z.array(z.string()).default(["lidar_top"]),
});

export function transportContract(target: ContractTarget): void {
  const title = target.unavailable === null ? `transport contract: ${target.name}` : `transport contract: ${target.name} — skipped: ${target.unavailable}`;
  describe(title, function () {
    const open: Transport[] = [];
    let counter = 0;
    const openNode = async (options: Partial<ContractOpenOptions> = {}): Promise<Transport> => {
      const t = await target.open({ nodeName: `contract_${process.pid}_${++counter}`, ...options });
      open.push(t);
      return t;
    };
    const topic = (): string => `/contract/t${process.pid}_${counter}_${Math.floor(Math.random() * 1e9)}`;

    before(function () {
      if (target.unavailable !== null) this.skip();
    });
    afterEach(async () => {
      for (const t of open.splice(0)) await t.shutdown().catch(() => undefined);
    });

    it("delivers a published message with topic, normalised type, bytes and receive time", async () => {
      const t = await openNode();
      const name = topic();
      const got: RawMessage[] = [];
      t.subscribeRaw(name, "std_msgs/msg/String", RELIABLE, (m) => void got.push(m));
      const pub = t.advertise(name, "std_msgs/String", RELIABLE);
      const before = t.clock.now();
      pub.publish(payload(7));
      await eventually(t, () => got.length === 1, "one message");
      const m = got[0]!;
      assert.equal(m.topic, name);
      assert.equal(m.type, "std_msgs/String");
      assert.equal(seqOf(m.data), 7);
      assert.ok(m.receiveTime >= before && m.receiveTime <= t.clock.now(), "receive time on the node clock");
    });

    it("delivers in publish order", async () => {
      const t = await openNode();
      const name = topic();
      const seen: number[] = [];
      t.subscribeRaw(name, "std_msgs/String", RELIABLE, (m) => void seen.push(seqOf(m.data)));
      const pub = t.advertise(name, "std_msgs/String", RELIABLE);
      for (let i = 0; i < 50; i++) pub.publish(payload(i));
      await eventually(t, () => seen.length === 50, "50 messages");
      assert.deepEqual(seen, Array.from({ length: 50 }, (_, i) => i));
    });

    it("delivers asynchronously, never on the publisher's call stack", async () => {
      const t = await openNode();
      const name = topic();
      let inPublish = false;
      let calledDuringPublish = false;
      const sub = t.subscribeRaw(name, "std_msgs/String", RELIABLE, () => {
        if (inPublish) calledDuringPublish = true;
      });
      const pub = t.advertise(name, "std_msgs/String", RELIABLE);
      inPublish = true;
      pub.publish(payload(1));
      inPublish = false;
      await eventually(t, () => sub.delivered === 1, "delivery");
      assert.equal(calledDuringPublish, false);
    });

    it("keeps the last `depth` messages per subscriber and counts the drops", async () => {
      const t = await openNode();
      const name = topic();
      const qos: QosProfile = { ...RELIABLE, depth: 5 };
      const seen: number[] = [];
      const sub = t.subscribeRaw(name, "std_msgs/String", qos, (m) => void seen.push(seqOf(m.data)));
      const pub = t.advertise(name, "std_msgs/String", qos);
      // All 20 are published before the subscriber can run once.
      for (let i = 0; i < 20; i++) pub.publish(payload(i));
      await eventually(t, () => seen.includes(19), "the newest message");
      if (target.exactQueueing) {
        assert.deepEqual(seen, [15, 16, 17, 18, 19]);
        assert.equal(sub.dropped, 15);
        assert.equal(sub.delivered, 5);
      } else {
        assert.ok(seen.length <= 20 && sub.delivered === seen.length);
        assert.ok(seen.every((v, i) => i === 0 || v > seen[i - 1]!), "still in order");
      }
    });

    it("hands the bytes over untouched (content and length), to every subscriber", async () => {
      const t = await openNode();
      const name = topic();
      const data = payload(3, 1 << 20);
      for (let i = 8; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
      const original = Uint8Array.from(data);
      const a: Uint8Array[] = [];
      const b: Uint8Array[] = [];
      t.subscribeRaw(name, "sensor_msgs/PointCloud2", RELIABLE, (m) => void a.push(m.data));
      t.subscribeRaw(name, "sensor_msgs/PointCloud2", RELIABLE, (m) => void b.push(m.data));
      t.advertise(name, "sensor_msgs/msg/PointCloud2", RELIABLE).publish(data);
      await eventually(t, () => a.length === 1 && b.length === 1, "both subscribers");
      assert.equal(a[0]!.byteLength, original.byteLength);
      assert.ok(Buffer.from(a[0]!).equals(Buffer.from(original)), "subscriber A got the published bytes");
      assert.ok(Buffer.from(b[0]!).equals(Buffer.from(original)), "subscriber B got the published bytes");
      assert.ok(Buffer.from(data).equals(Buffer.from(original)), "the publisher's buffer is unchanged");
    });

    it("stamps receive times from the node clock", async () => {
      const t = await openNode();
      const name = topic();
      const times: bigint[] = [];
      t.subscribeRaw(name, "std_msgs/String", RELIABLE, (m) => void times.push(m.receiveTime));
      const pub = t.advertise(name, "std_msgs/String", RELIABLE);
      const sim = target.simulatedClock?.();
      if (sim !== undefined) {
        sim.set(1_700_000_000_000_000_000n);
        pub.publish(payload(0));
        sim.advance(100_000_000n);
        pub.publish(payload(1));
        await eventually(t, () => times.length === 2, "two messages");
        assert.deepEqual(times, [1_700_000_000_000_000_000n, 1_700_000_000_100_000_000n]);
        assert.equal(t.clock.kind, "simulated");
      } else {
        const t0 = t.clock.now();
        pub.publish(payload(0));
        pub.publish(payload(1));
        await eventually(t, () => times.length === 2, "two messages");
        assert.ok(times[0]! >= t0 && times[1]! >= times[0]!, "monotonic receive times after the publish");
        // Epoch nanoseconds: after 2020-01-01.
        assert.ok(t0 > 1_577_836_800_000_000_000n, `clock ${t0} is epoch ns`);
      }
    });

    it("serves parameters: given values, schema defaults, and refuses a value outside its descriptor", async () => {
      const descriptors = zodToParameterDescriptors(ParamSchema);
      const t = await openNode({ parameters: { split_size_mb: 512, "record.compression": "lz4" }, parameterDescriptors: descriptors });
      const p = t.parameters();
      assert.equal(p.split_size_mb, 512);
      assert.equal(p["record.compression"], "lz4");
      assert.equal(p.output_dir, "bags/out");
      assert.equal(p.tolerance_s, 0.05);
      assert.deepEqual(p.sensors, ["lidar_top"]);
      await assert.rejects(
        openNode({ parameters: { split_size_mb: 0 }, parameterDescriptors: descriptors }),
        (error: Error) => error.message.includes("split_size_mb") && error.message.includes("0"),
      );
    });

    it("serves std_srvs/Trigger services and answers calls", async () => {
      const t = await openNode({ namespace: "/car" });
      let paused = false;
      t.serveTrigger("~/pause", () => {
        paused = true;
        return { success: true, message: "paused" };
      });
      t.serveTrigger("~/split", async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { success: true, message: "split at 3" };
      });
      t.serveTrigger("~/snapshot", () => {
        throw new Error("disk full");
      });
      assert.ok(t.callTrigger, "the adapter can call Trigger services");
      assert.deepEqual(await t.callTrigger("~/pause"), { success: true, message: "paused" });
      assert.equal(paused, true);
      assert.deepEqual(await t.callTrigger("~/split"), { success: true, message: "split at 3" });
      const failed = await t.callTrigger("~/snapshot");
      assert.equal(failed.success, false);
      assert.match(failed.message, /disk full/);
    });

    it("shuts down once: pending messages are delivered, callbacks run in order, endpoints close", async () => {
      const t = await openNode();
      const name = topic();
      const events: string[] = [];
      const sub = t.subscribeRaw(name, "std_msgs/String", RELIABLE, (m) => void events.push(`msg ${seqOf(m.data)}`));
      const pub = t.advertise(name, "std_msgs/String", RELIABLE);
      t.onShutdown(() => void events.push("first"));
      t.onShutdown(async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        events.push("second");
      });
      pub.publish(payload(1));
      if (!target.exactQueueing) await eventually(t, () => sub.delivered === 1, "the message before shutdown");
      await Promise.all([t.shutdown(), t.shutdown()]);
      await t.shutdown();
      assert.deepEqual(events, ["msg 1", "first", "second"]);
      assert.throws(() => pub.publish(payload(2)), /closed|shut down/);
    });

    it("serves many subscribers on one topic, each in order, a slow one not holding back the others", async () => {
      const t = await openNode();
      const name = topic();
      const n = 8;
      const seen: number[][] = Array.from({ length: n }, () => []);
      for (let i = 0; i < n; i++) t.subscribeRaw(name, "std_msgs/String", RELIABLE, (m) => void seen[i]!.push(seqOf(m.data)));
      let slowCount = 0;
      const slow = t.subscribeRaw(name, "std_msgs/String", { ...RELIABLE, depth: 2 }, async () => {
        slowCount++;
        await new Promise((resolve) => setTimeout(resolve, 20));
      });
      const pub = t.advertise(name, "std_msgs/String", RELIABLE);
      for (let i = 0; i < 100; i++) pub.publish(payload(i));
      await eventually(t, () => seen.every((s) => s.length === 100), "100 messages on every fast subscriber", 10_000);
      const expected = Array.from({ length: 100 }, (_, i) => i);
      for (const s of seen) assert.deepEqual(s, expected);
      assert.ok(slowCount < 100, "the slow subscriber saw fewer messages");
      if (target.exactQueueing) assert.equal(slow.dropped + slow.delivered, 100);
    });

    it("keeps memory bounded under a flood: the queue never exceeds depth and drops are counted", async function () {
      this.timeout(30_000);
      const t = await openNode();
      const name = topic();
      const depth = 10;
      let handled = 0;
      const sub = t.subscribeRaw(name, "sensor_msgs/Image", { ...RELIABLE, depth }, async () => {
        handled++;
        await new Promise((resolve) => setImmediate(resolve));
      });
      const pub = t.advertise(name, "sensor_msgs/Image", { ...RELIABLE, depth });
      const total = 20_000;
      const size = 16 * 1024;
      const before = process.memoryUsage();
      let peakExternal = 0;
      for (let i = 0; i < total; i++) {
        pub.publish(payload(i, size));
        if (i % 1000 === 999) {
          await new Promise((resolve) => setImmediate(resolve));
          const now = process.memoryUsage();
          peakExternal = Math.max(peakExternal, now.arrayBuffers - before.arrayBuffers);
        }
      }
      await eventually(t, () => true, "the flood to drain", 20_000);
      assert.equal(sub.delivered, handled);
      if (target.exactQueueing) {
        assert.equal(sub.delivered + sub.dropped, total, "every message is delivered or counted as dropped");
        assert.ok(sub.dropped > total / 2, `most of the flood is dropped (dropped ${sub.dropped})`);
        const highWater = (sub as unknown as { highWater?: number }).highWater;
        if (highWater !== undefined) assert.ok(highWater <= depth, `queue high water ${highWater} ≤ depth ${depth}`);
      }
      // 20,000 × 16 KiB = 320 MiB published; a bounded queue holds ~depth of them. The bound is
      // loose because the collector frees published buffers when it likes.
      assert.ok(peakExternal < 160 * 1024 * 1024, `external memory grew by ${(peakExternal / 2 ** 20).toFixed(1)} MiB`);
    });
  });
}
