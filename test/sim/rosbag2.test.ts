import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McapIndexedReader, type IReadable } from "@mcap/core";
import { parse as parseMsg } from "@foxglove/rosmsg";
import { MessageReader } from "@foxglove/rosmsg2-serialization";
import { parse as parseYaml } from "yaml";
import { decompress } from "zstd-napi";
import { simulateDrive } from "../../src/sim/drive.js";
import { writeRosbag2 } from "../../src/sim/rosbag2.js";
import { loadTruth } from "../../src/sim/truth.js";
import { testRig } from "./fixture.js";

function bufferReadable(buf: Uint8Array): IReadable {
  return {
    size: async () => BigInt(buf.byteLength),
    read: async (offset, size) => buf.subarray(Number(offset), Number(offset + size)),
  };
}

interface BagInfo {
  rosbag2_bagfile_information: {
    version: number;
    storage_identifier: string;
    message_count: number;
    relative_file_paths: string[];
    starting_time: { nanoseconds_since_epoch: number };
    duration: { nanoseconds: number };
    topics_with_message_count: { topic_metadata: { name: string; type: string; serialization_format: string; offered_qos_profiles: { reliability: string; depth: number }[] }; message_count: number }[];
    files: { path: string; message_count: number }[];
  };
}

describe("sim rosbag2 output", function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "syncbag-bag-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const compression of ["none", "zstd_small"] as const) {
    it(`writes a rosbag2 MCAP folder like ros2 bag record -s mcap (${compression})`, async () => {
      const drive = simulateDrive({ rig: testRig({ durationS: 1 }), seed: 3 });
      const result = await writeRosbag2(drive, { outDir: dir, name: `bag_${compression}`, compression });
      const info = (parseYaml(await readFile(result.metadataPath, "utf8")) as BagInfo).rosbag2_bagfile_information;
      assert.equal(info.version, 9);
      assert.equal(info.storage_identifier, "mcap");
      assert.deepEqual(info.relative_file_paths, [`bag_${compression}_0.mcap`]);
      assert.equal(info.message_count, result.messageCount);
      assert.equal(info.files[0]!.message_count, result.messageCount);
      const perTopic = new Map(info.topics_with_message_count.map((t) => [t.topic_metadata.name, t]));
      assert.equal(perTopic.get("/tf_static")!.topic_metadata.type, "tf2_msgs/msg/TFMessage");
      assert.equal(perTopic.get("/sensing/imu/imu_raw")!.topic_metadata.offered_qos_profiles[0]!.reliability, "best_effort");
      assert.equal(
        info.topics_with_message_count.reduce((s, t) => s + t.message_count, 0),
        info.message_count,
      );

      const reader = await McapIndexedReader.Initialize({
        readable: bufferReadable(await readFile(result.mcapPath)),
        decompressHandlers: { zstd: (data, size) => new Uint8Array(decompress(data).subarray(0, Number(size))) },
      });
      assert.equal(reader.header.profile, "ros2");
      const truth = await loadTruth(result.truthPath);
      const channels = [...reader.channelsById.values()];
      assert.equal(channels.length, drive.topics.length);
      const readers = new Map<number, MessageReader>();
      for (const ch of channels) {
        const schema = reader.schemasById.get(ch.schemaId)!;
        assert.equal(schema.encoding, "ros2msg");
        assert.equal(ch.messageEncoding, "cdr");
        assert.match(ch.metadata.get("offered_qos_profiles") ?? "", /history: keep_last/);
        readers.set(ch.id, new MessageReader(parseMsg(new TextDecoder().decode(schema.data), { ros2: true })));
      }
      let count = 0;
      let lastLog = 0n;
      const stamps = new Map<string, string[]>();
      for await (const m of reader.readMessages()) {
        assert.ok(m.logTime >= lastLog, "log time in arrival order");
        assert.ok(m.publishTime <= m.logTime);
        lastLog = m.logTime;
        const topic = reader.channelsById.get(m.channelId)!.topic;
        const msg = readers.get(m.channelId)!.readMessage<{ header?: { stamp: { sec: number; nanosec: number } } }>(m.data);
        if (msg.header !== undefined) {
          const list = stamps.get(topic) ?? [];
          list.push((BigInt(msg.header.stamp.sec) * 1_000_000_000n + BigInt(msg.header.stamp.nanosec)).toString());
          stamps.set(topic, list);
        }
        count++;
      }
      assert.equal(count, result.messageCount);
      // Decoding with the schema text stored in the file gives back the truth's stamps.
      for (const sensor of truth.sensors) assert.deepEqual(stamps.get(sensor.topic), truth.messages[sensor.topic]!.stampNs, sensor.topic);
      const meta = [];
      for await (const m of reader.readMetadata({ name: "rosbag2" })) meta.push(m);
      assert.equal(meta.length, 1);
      assert.match(meta[0]!.metadata.get("serialized_metadata")!, /storage_identifier: mcap/);
    });
  }
});
