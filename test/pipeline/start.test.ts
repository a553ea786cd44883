/**
 * `npm start` end to end: the simulated drive through the in-process transport into the node,
 * recorded, read back with @mcap/core's indexed reader and compared with what was published.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McapIndexedReader } from "@mcap/core";
import { start } from "../../src/cli/commands/start.js";
import { mcapDecompressHandlers } from "../../src/convert/readers/decompress.js";
import { simulateDrive } from "../../src/sim/drive.js";
import { loadRig } from "../../src/sim/rig.js";

describe("npm start (simulated drive → node → MCAP)", function () {
  this.timeout(120_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "syncbag-start-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("records every published message byte for byte, with corrected publish times, frames and a report", async () => {
    const result = await start({ rig: "default", seed: "6", duration: "6", speed: "max", out: dir, compression: "zstd", quiet: true });
    const bytes = await readFile(result.mcapPath);
    const reader = await McapIndexedReader.Initialize({
      readable: { size: async () => BigInt(bytes.byteLength), read: async (offset, length) => bytes.subarray(Number(offset), Number(offset + length)) },
      decompressHandlers: mcapDecompressHandlers(),
    });
    assert.equal(reader.header.profile, "ros2");
    const byTopic = new Map<string, Uint8Array[]>();
    const topicOf = new Map([...reader.channelsById.values()].map((c) => [c.id, c.topic]));
    let previous = -1n;
    for await (const message of reader.readMessages()) {
      assert.ok(message.logTime >= previous, "messages in log-time order");
      previous = message.logTime;
      const topic = topicOf.get(message.channelId)!;
      let list = byTopic.get(topic);
      if (list === undefined) byTopic.set(topic, (list = []));
      list.push(message.data);
    }
    // The same seed regenerates exactly what was published.
    const published = new Map<string, Uint8Array[]>();
    for (const m of simulateDrive({ rig: loadRig("default"), seed: 6, durationS: 6 })) {
      let list = published.get(m.topic);
      if (list === undefined) published.set(m.topic, (list = []));
      list.push(m.data);
    }
    for (const [topic, messages] of published) {
      const recorded = byTopic.get(topic) ?? [];
      assert.equal(recorded.length, messages.length, `${topic}: count`);
      const key = (d: Uint8Array): string => Buffer.from(d).toString("base64");
      assert.deepEqual(new Set(recorded.map(key)), new Set(messages.map(key)), `${topic}: bytes`);
    }
    assert.equal(byTopic.get("/syncbag/frames")?.length, published.get(loadRig("default").lidar!.topic)!.length);
    assert.ok((byTopic.get("/syncbag/clock_state")?.length ?? 0) > 0);
    assert.ok([...reader.metadataIndexes.values()].some((m) => m.name === "syncbag.clock_models"));
    const report = JSON.parse(await readFile(result.reportPath, "utf8")) as {
      evaluation: { alignment: { sensors: { sensor: string; compared: number }[] } };
      status: { subscriptions: { topic: string; dropped: number }[]; pipeline: { stageErrors: number } };
    };
    assert.equal(report.evaluation.alignment.sensors.length, 9);
    for (const s of report.status.subscriptions) assert.equal(s.dropped, 0, `${s.topic}: dropped by the subscription queue`);
    assert.equal(report.status.pipeline.stageErrors, 0);
    assert.ok((byTopic.get("/syncbag/suggestions")?.length ?? 0) > 0, "label suggestions recorded");
    assert.ok((byTopic.get("/syncbag/suggestions/scene")?.length ?? 0) > 0, "Foxglove SceneUpdate recorded");
  });

  it("refuses bad options with a message naming them", async () => {
    await assert.rejects(start({ rig: "default", seed: "x", duration: "6", speed: "max", out: dir, compression: "zstd", quiet: true }), /--seed/);
    await assert.rejects(start({ rig: "nosuchrig", seed: "1", duration: "6", speed: "max", out: dir, compression: "zstd", quiet: true }), /nosuchrig/);
    await assert.rejects(start({ rig: "default", seed: "1", duration: "-3", speed: "max", out: dir, compression: "zstd", quiet: true }), /--duration/);
  });
});
