/**
 * In-process transport throughput, the path every message takes in `npm start` and in tests.
 *
 * 1. Small messages (1 KiB, like IMU/CAN/audio chunks) fanned out to 3 subscribers (recorder
 *    and two suggesters), timed from the first publish until every handler has run. Baseline,
 *    same run: node:events EventEmitter emitting the same messages synchronously — the floor
 *    of any in-process dispatch, but one that runs subscribers on the publisher's stack, which
 *    the transport must not do. Target: ≥ 100,000 messages/s delivered, far above a full car
 *    rig (~1,000 messages/s), so the transport is never the bottleneck.
 * 2. 4 MB point clouds fanned out to 3 subscribers. Baseline, same run: the same dispatch with
 *    one copy per subscriber, what a transport that copies for isolation would pay. Target:
 *    ratio ≥ 10 (handing the same buffer over is what lets lidar rates cost nothing).
 */
import { EventEmitter } from "node:events";
import { InProcessTransport } from "../src/transport/inprocess.js";
import type { QosProfile } from "../src/transport/port.js";
import { medianMs, report } from "./harness.js";

const QOS: QosProfile = { history: "keep_last", depth: 100_000, reliability: "reliable", durability: "volatile" };

function cdr(size: number, seq: number): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes.set([0, 1, 0, 0]);
  new DataView(bytes.buffer).setUint32(4, seq, true);
  return bytes;
}

async function transportRun(messages: Uint8Array[], subscribers: number, copyOnPublish: boolean): Promise<number> {
  const t = new InProcessTransport({ copyOnPublish });
  let handled = 0;
  let checksum = 0;
  for (let i = 0; i < subscribers; i++) {
    t.subscribeRaw("/bench", "sensor_msgs/PointCloud2", QOS, (m) => {
      handled++;
      checksum += m.data[4]!;
    });
  }
  const pub = t.advertise("/bench", "sensor_msgs/PointCloud2", QOS);
  for (const m of messages) pub.publish(m);
  await t.flush();
  await t.shutdown();
  if (handled !== messages.length * subscribers) throw new Error(`delivered ${handled} of ${messages.length * subscribers}`);
  return checksum;
}

export default async function (): Promise<void> {
  // 1. Small messages, async bounded delivery vs synchronous EventEmitter.
  const count = 50_000;
  const small = Array.from({ length: count }, (_, i) => cdr(1024, i));
  const transportMs = await medianMs(() => transportRun(small, 3, false), 7, 2);
  const emitterMs = await medianMs(
    () => {
      const e = new EventEmitter();
      let checksum = 0;
      for (let i = 0; i < 3; i++) e.on("m", (data: Uint8Array) => (checksum += data[4]!));
      for (const m of small) e.emit("m", m);
      return checksum;
    },
    7,
    2,
  );
  const rate = count / (transportMs / 1000);
  report({
    name: "in-process delivery, 1 KiB messages to 3 subscribers",
    value: rate,
    unit: "msg/s",
    baseline: { name: "synchronous EventEmitter emit", value: count / (emitterMs / 1000), unit: "msg/s" },
    ratio: emitterMs / transportMs,
    target: { text: "≥ 100,000 msg/s", met: rate >= 100_000 },
  });

  // 2. Large messages: the same buffer to every subscriber vs a copy per subscriber.
  const clouds = Array.from({ length: 20 }, (_, i) => cdr(4 * 1024 * 1024, i));
  const sharedMs = await medianMs(() => transportRun(clouds, 3, false), 7, 2);
  const copyMs = await medianMs(
    async () => {
      // What a copying transport does: one copy per subscriber of every message.
      const t = new InProcessTransport();
      let handled = 0;
      for (let i = 0; i < 3; i++) {
        t.subscribeRaw("/bench", "sensor_msgs/PointCloud2", QOS, (m) => {
          handled += Uint8Array.from(m.data)[4]! >= 0 ? 1 : 0;
        });
      }
      const pub = t.advertise("/bench", "sensor_msgs/PointCloud2", QOS);
      for (const m of clouds) pub.publish(m);
      await t.flush();
      await t.shutdown();
      return handled;
    },
    7,
    2,
  );
  const bytes = clouds.length * 4 * 1024 * 1024;
  report({
    name: "in-process fan-out, 4 MiB point clouds to 3 subscribers",
    value: bytes / (sharedMs / 1000) / 1e9,
    unit: "GB/s published",
    baseline: { name: "one copy per subscriber", value: bytes / (copyMs / 1000) / 1e9, unit: "GB/s published" },
    ratio: copyMs / sharedMs,
    target: { text: "ratio ≥ 10", met: copyMs / sharedMs >= 10 },
  });
}
