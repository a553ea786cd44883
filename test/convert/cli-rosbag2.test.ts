/** Issue 17 item 10: a rosbag2 sqlite3 topic with an empty serialization_format is read as CDR (rosbag2's default), not carried schema-less. */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openRecording } from "../../src/convert/readers/open.js";
import { defaultCodec } from "../../src/messages/codec.js";
import { compress as zstdCompress } from "zstd-napi";
import { RecordingError } from "../../src/convert/readers/source.js";
import { fixtureMessages, writeMetadataYaml } from "./fixtures.js";

interface SqlJs {
  Database: new () => { run(sql: string, params?: unknown[]): void; export(): Uint8Array; close(): void };
}

describe("convert/cli-rosbag2: empty serialization_format", function () {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "syncbag-rosbag2-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("is read as CDR, decodable with its ROS 2 schema, with a warning naming the topic", async () => {
    const SQL = await (createRequire(import.meta.url)("sql.js") as () => Promise<SqlJs>)();
    const db = new SQL.Database();
    db.run("CREATE TABLE topics(id INTEGER PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, serialization_format TEXT NOT NULL, offered_qos_profiles TEXT NOT NULL)");
    db.run("CREATE TABLE messages(id INTEGER PRIMARY KEY, topic_id INTEGER NOT NULL, timestamp INTEGER NOT NULL, data BLOB NOT NULL)");
    db.run("INSERT INTO topics VALUES (1, '/imu', 'sensor_msgs/msg/Imu', '', '')");
    const imu = fixtureMessages(1).filter((m) => m.topic === "/imu").slice(0, 10);
    for (const m of imu) db.run("INSERT INTO messages(topic_id, timestamp, data) VALUES (1, ?, ?)", [m.logTime.toString(), m.data]);
    const bag = join(dir, "bag");
    await writeMetadataYaml(bag, ["b_0.db3"], "sqlite3", [{ name: "/imu", type: "sensor_msgs/msg/Imu", count: imu.length }]);
    const yaml = (await readFile(join(bag, "metadata.yaml"), "utf8")).replace("serialization_format: cdr", 'serialization_format: ""');
    await writeFile(join(bag, "metadata.yaml"), yaml);
    await writeFile(join(bag, "b_0.db3"), db.export());
    db.close();

    const source = await openRecording(bag);
    try {
      const topic = source.topics.find((t) => t.topic === "/imu")!;
      assert.equal(topic.encoding, "cdr");
      assert.equal(topic.decodable, true);
      assert.equal(topic.schema.encoding, "ros2msg");
      assert.ok(topic.schema.data.byteLength > 0);
      let n = 0;
      for await (const m of source.messages()) {
        assert.equal(m.encoding, "cdr");
        defaultCodec().decode("sensor_msgs/Imu", m.data);
        n++;
      }
      assert.equal(n, imu.length);
      assert.ok(source.warnings.some((w) => /empty serialization_format for \/imu: read as CDR/.test(w)), source.warnings.join("\n"));
    } finally {
      await source.close();
    }
  });

  it("MESSAGE-mode zstd: a damaged frame is named by message id, topic and time; salvage skips only that message", async () => {
    const SQL = await (createRequire(import.meta.url)("sql.js") as () => Promise<SqlJs>)();
    const db = new SQL.Database();
    db.run("CREATE TABLE topics(id INTEGER PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, serialization_format TEXT NOT NULL, offered_qos_profiles TEXT NOT NULL)");
    db.run("CREATE TABLE messages(id INTEGER PRIMARY KEY, topic_id INTEGER NOT NULL, timestamp INTEGER NOT NULL, data BLOB NOT NULL)");
    db.run("INSERT INTO topics VALUES (1, '/imu', 'sensor_msgs/msg/Imu', 'cdr', '')");
    const imu = fixtureMessages(1).filter((m) => m.topic === "/imu").slice(0, 10);
    imu.forEach((m, i) => {
      const frame = new Uint8Array(zstdCompress(m.data));
      if (i === 4) for (let j = 6; j < frame.byteLength; j++) frame[j]! ^= 0x5a;
      db.run("INSERT INTO messages(id, topic_id, timestamp, data) VALUES (?, 1, ?, ?)", [i + 1, m.logTime.toString(), frame]);
    });
    const bag = join(dir, "zbag");
    await writeMetadataYaml(bag, ["b_0.db3"], "sqlite3", [{ name: "/imu", type: "sensor_msgs/msg/Imu", count: imu.length }]);
    const yaml = (await readFile(join(bag, "metadata.yaml"), "utf8")).replace('compression_format: ""', "compression_format: zstd").replace('compression_mode: ""', "compression_mode: MESSAGE");
    await writeFile(join(bag, "metadata.yaml"), yaml);
    await writeFile(join(bag, "b_0.db3"), db.export());
    db.close();

    const drain = async (salvage: boolean): Promise<{ n: number; warnings: readonly string[] }> => {
      const source = await openRecording(bag, { salvage });
      let n = 0;
      try {
        for await (const m of source.messages()) if (m.data.byteLength > 0) n++;
      } finally {
        await source.close();
      }
      return { n, warnings: source.warnings };
    };
    await assert.rejects(drain(false), (e: unknown) => e instanceof RecordingError && e.kind === "corrupt" && new RegExp(`message id 5 \\(/imu, log time ${imu[4]!.logTime}\\): zstd message compression: `).test(e.reason));
    const salvaged = await drain(true);
    assert.equal(salvaged.n, imu.length - 1);
    assert.ok(salvaged.warnings.some((w) => /salvaged: .*1 damaged message skipped \(message id 5 /.test(w)), salvaged.warnings.join("\n"));
  });
});
