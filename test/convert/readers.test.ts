import assert from "node:assert/strict";
import { copyFile, mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compress as zstdCompress } from "zstd-napi";
import { openRecording, detectRecording } from "../../src/convert/readers/open.js";
import { RecordingError, type RecordingSource, type SourceMessage } from "../../src/convert/readers/source.js";
import { defaultCodec } from "../../src/messages/codec.js";
import { fixtureMessages, writeMcap, writeMetadataYaml, type McapVariant } from "./fixtures.js";

async function drain(source: RecordingSource): Promise<SourceMessage[]> {
  const out: SourceMessage[] = [];
  for await (const m of source.messages()) out.push(m);
  return out;
}

/** Opens, drains and always closes (so a failing read leaks no file handle). */
async function readAll(path: string): Promise<SourceMessage[]> {
  const source = await openRecording(path);
  try {
    return await drain(source);
  } finally {
    await source.close();
  }
}

function assertLogTimeOrder(messages: readonly SourceMessage[]): void {
  for (let i = 1; i < messages.length; i++) assert.ok(messages[i]!.logTime >= messages[i - 1]!.logTime, `message ${i} out of log-time order`);
}

describe("convert/readers: MCAP variants", function () {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "syncbag-readers-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const variants: [string, McapVariant][] = [
    ["chunked, uncompressed, full summary", {}],
    ["chunked zstd", { compression: "zstd" }],
    ["chunked lz4", { compression: "lz4" }],
    ["chunked zstd, no summary or indexes", { compression: "zstd", useSummaryOffsets: false, useStatistics: false, useChunkIndex: false, useMessageIndex: false, repeatChannels: false, repeatSchemas: false }],
    ["unchunked, no summary", { useChunks: false, useStatistics: false, useSummaryOffsets: false, repeatChannels: false, repeatSchemas: false }],
    ["unchunked, with statistics", { useChunks: false }],
    ["small chunks lz4", { compression: "lz4", chunkSize: 2048 }],
  ];
  for (const [name, variant] of variants) {
    for (const shuffled of [false, true]) {
      it(`${name}${shuffled ? ", written out of log-time order" : ""}: every message, in log-time order, content intact`, async () => {
        const written = fixtureMessages(1, 1_700_000_000_000_000_000n, shuffled);
        const path = join(dir, `${name.replace(/\W+/g, "_")}${shuffled ? "_shuf" : ""}.mcap`);
        await writeMcap(path, written, variant);
        const source = await openRecording(path);
        const read = await drain(source);
        await source.close();
        assert.equal(read.length, written.length);
        assertLogTimeOrder(read);
        const expected = [...written].sort((a, b) => (a.logTime < b.logTime ? -1 : a.logTime > b.logTime ? 1 : 0));
        assert.deepEqual(read.map((m) => [m.topic, m.logTime]), expected.map((m) => [m.topic, m.logTime]));
        const imu = read.filter((m) => m.topic === "/imu");
        const decoded = defaultCodec().decode<{ angular_velocity: { x: number } }>("sensor_msgs/Imu", imu[42]!.data);
        assert.equal(decoded.angular_velocity.x, 42);
        assert.equal(imu[0]!.type, "sensor_msgs/Imu");
        assert.equal(imu[0]!.schema.name, "sensor_msgs/msg/Imu");
        assert.equal(source.topics.find((t) => t.topic === "/imu")?.decodable, true);
      });
    }
  }

  it("a truncated MCAP fails with 'truncated'; with salvage it yields the messages before the cut and warns", async () => {
    const path = join(dir, "trunc.mcap");
    await writeMcap(path, fixtureMessages(2), { compression: "zstd", chunkSize: 4096 });
    const size = (await readFile(path)).byteLength;
    await truncate(path, Math.floor(size * 0.6));
    await assert.rejects(async () => readAll(path), (e: unknown) => e instanceof RecordingError && e.kind === "truncated");
    const salvaged = await openRecording(path, { salvage: true });
    const read = await drain(salvaged);
    await salvaged.close();
    assert.ok(read.length > 50 && read.length < 220, `salvaged ${read.length}`);
    assertLogTimeOrder(read);
    assert.ok(salvaged.warnings.some((w) => w.includes("truncated")), salvaged.warnings.join("; "));
  });

  it("a bit flip inside a chunk is reported as corrupt (CRC)", async () => {
    const path = join(dir, "flip.mcap");
    await writeMcap(path, fixtureMessages(1), { chunkSize: 1 << 20 });
    const bytes = await readFile(path);
    bytes[Math.floor(bytes.byteLength / 3)]! ^= 0x10;
    await writeFile(path, bytes);
    await assert.rejects(
      async () => readAll(path),
      (e: unknown) => e instanceof RecordingError && e.kind === "corrupt" && e.path === path,
    );
  });

  it("unknown and empty files are refused with the path and the reason", async () => {
    const junk = join(dir, "notes.mcap");
    await writeFile(junk, "hello, this is not a recording");
    await assert.rejects(detectRecording(junk), (e: unknown) => e instanceof RecordingError && e.kind === "unknown" && /not a recording/.test(e.reason));
    const empty = join(dir, "empty.bag");
    await writeFile(empty, "");
    await assert.rejects(openRecording(empty), (e: unknown) => e instanceof RecordingError && e.kind === "truncated");
    await assert.rejects(openRecording(join(dir, "missing.mcap")), (e: unknown) => e instanceof RecordingError && e.kind === "unreadable");
  });
});

describe("convert/readers: rosbag2 folders", function () {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "syncbag-rosbag2-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("split mcap bag with an empty storage_identifier: files read in relative_file_paths order", async () => {
    const bag = join(dir, "split");
    const all = fixtureMessages(2);
    const half = all.findIndex((m) => m.logTime >= 1_700_000_001_000_000_000n);
    await writeMetadataYaml(bag, ["split_0.mcap", "split_1.mcap"], "", [
      { name: "/imu", type: "sensor_msgs/msg/Imu", count: all.filter((m) => m.topic === "/imu").length },
      { name: "/text", type: "std_msgs/msg/String", count: all.filter((m) => m.topic === "/text").length },
    ]);
    await writeMcap(join(bag, "split_0.mcap"), all.slice(0, half), { compression: "zstd" });
    await writeMcap(join(bag, "split_1.mcap"), all.slice(half), { compression: "zstd" });
    const source = await openRecording(bag);
    const read = await drain(source);
    assert.equal(source.metadata.format, "rosbag2-mcap");
    assert.equal(source.metadata.files.length, 2);
    assert.equal(read.length, all.length);
    assertLogTimeOrder(read);
    assert.ok(source.warnings.some((w) => w.includes("inferred 'mcap'")));
    assert.equal(source.metadata.messageCount, all.length);
    await source.close();
  });

  it("zstd FILE compression: <file>.mcap.zstd is decompressed to a temp file and read", async () => {
    const bag = join(dir, "filezstd");
    const all = fixtureMessages(1);
    await writeMetadataYaml(bag, ["filezstd_0.mcap.zstd"], "mcap", [{ name: "/imu", type: "sensor_msgs/msg/Imu", count: 100 }]);
    const yaml = (await readFile(join(bag, "metadata.yaml"), "utf8")).replace('compression_format: ""', "compression_format: zstd").replace('compression_mode: ""', "compression_mode: FILE");
    await writeFile(join(bag, "metadata.yaml"), yaml);
    const plain = join(dir, "filezstd_plain.mcap");
    await writeMcap(plain, all);
    await writeFile(join(bag, "filezstd_0.mcap.zstd"), zstdCompress(await readFile(plain)));
    const source = await openRecording(bag);
    const read = await drain(source);
    await source.close();
    assert.equal(read.length, all.length);
    assert.equal(source.metadata.details.compression, "zstd/FILE");
  });

  for (const schemaVersion of [2, 3, 4]) {
    it(`sqlite3 storage, schema version ${schemaVersion}${schemaVersion === 4 ? " (message_definitions)" : ""}, zstd MESSAGE compression on v3`, async () => {
      const SQL = await (createRequire(import.meta.url)("sql.js") as () => Promise<{ Database: new () => { run(sql: string, params?: unknown[]): void; export(): Uint8Array; close(): void } }>)();
      const db = new SQL.Database();
      db.run("CREATE TABLE schema(schema_version INTEGER PRIMARY KEY, ros_distro TEXT NOT NULL)");
      db.run("INSERT INTO schema VALUES (?, ?)", [schemaVersion, "iron"]);
      const topicCols = schemaVersion >= 4 ? ", offered_qos_profiles TEXT NOT NULL, type_description_hash TEXT NOT NULL" : schemaVersion >= 2 ? ", offered_qos_profiles TEXT NOT NULL" : "";
      db.run(`CREATE TABLE topics(id INTEGER PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, serialization_format TEXT NOT NULL${topicCols})`);
      db.run("CREATE TABLE messages(id INTEGER PRIMARY KEY, topic_id INTEGER NOT NULL, timestamp INTEGER NOT NULL, data BLOB NOT NULL)");
      const extra = schemaVersion >= 4 ? [" ", ""] : schemaVersion >= 2 ? [" "] : [];
      db.run(`INSERT INTO topics VALUES (1, '/custom', 'acme_msgs/msg/Blip', 'cdr'${extra.map(() => ", ?").join("")})`, extra);
      db.run(`INSERT INTO topics VALUES (2, '/imu', 'sensor_msgs/msg/Imu', 'cdr'${extra.map(() => ", ?").join("")})`, extra);
      if (schemaVersion >= 4) {
        db.run("CREATE TABLE message_definitions(id INTEGER PRIMARY KEY, topic_type TEXT NOT NULL, encoding TEXT NOT NULL, encoded_message_definition TEXT NOT NULL, type_description_hash TEXT NOT NULL)");
        db.run("INSERT INTO message_definitions VALUES (1, 'acme_msgs/msg/Blip', 'ros2msg', 'uint32 n\nstring label\n', '')");
      }
      const compressed = schemaVersion === 3;
      const base = 1_700_000_000_123_456_789n; // beyond 2^53: must survive as bigint
      const blip = new Uint8Array([0, 1, 0, 0, 7, 0, 0, 0, 2, 0, 0, 0, 0x61, 0, 0, 0]);
      for (let i = 0; i < 20; i++) {
        const t = base + BigInt(19 - i) * 1000n; // inserted newest first: the reader must order by timestamp
        const data = i % 2 === 0 ? blip : defaultCodec().encode("std_msgs/String", { data: "x" });
        db.run("INSERT INTO messages(topic_id, timestamp, data) VALUES (?, ?, ?)", [i % 2 === 0 ? 1 : 2, t.toString(), compressed ? zstdCompress(data) : data]);
      }
      const bag = join(dir, `sqlite-v${schemaVersion}`);
      await writeMetadataYaml(bag, ["b_0.db3"], "sqlite3", []);
      if (compressed) {
        const yaml = (await readFile(join(bag, "metadata.yaml"), "utf8")).replace('compression_format: ""', "compression_format: zstd").replace('compression_mode: ""', "compression_mode: MESSAGE");
        await writeFile(join(bag, "metadata.yaml"), yaml);
      }
      await writeFile(join(bag, "b_0.db3"), db.export());
      db.close();
      const source = await openRecording(bag);
      const read = await drain(source);
      await source.close();
      assert.equal(read.length, 20);
      assertLogTimeOrder(read);
      assert.equal(read[0]!.logTime, base);
      assert.equal(read[19]!.logTime, base + 19_000n);
      const custom = source.topics.find((t) => t.topic === "/custom")!;
      assert.equal(custom.type, "acme_msgs/Blip");
      assert.equal(custom.decodable, schemaVersion >= 4, "decodable only where the bag carries the definition");
      assert.equal(source.warnings.some((w) => w.includes("acme_msgs/Blip")), schemaVersion < 4);
      if (schemaVersion >= 4) assert.deepEqual(source.definitions.get("acme_msgs/Blip").definitions.map((f) => f.name), ["n", "label"]);
      assert.deepEqual(read.find((m) => m.topic === "/custom")!.data, blip);
    });
  }

  it("--msg-path supplies a definition the bag lacks", async () => {
    const pkgRoot = join(dir, "msgs");
    const { mkdir } = await import("node:fs/promises");
    await mkdir(join(pkgRoot, "acme_msgs", "msg"), { recursive: true });
    await writeFile(join(pkgRoot, "acme_msgs", "msg", "Blip.msg"), "uint32 n\nstring label\n");
    const bag = join(dir, "sqlite-v3");
    const source = await openRecording(bag, { msgPaths: [pkgRoot] });
    assert.equal(source.topics.find((t) => t.topic === "/custom")!.decodable, true);
    assert.ok(!source.warnings.some((w) => w.includes("acme_msgs/Blip")));
    await source.close();
  });

  it("a truncated .db3 is reported as corrupt with its path", async () => {
    const bag = join(dir, "sqlite-trunc");
    await writeMetadataYaml(bag, ["b_0.db3"], "sqlite3", []);
    await copyFile(join(dir, "sqlite-v2", "b_0.db3"), join(bag, "b_0.db3"));
    await truncate(join(bag, "b_0.db3"), 3000);
    await assert.rejects(async () => readAll(bag), (e: unknown) => e instanceof RecordingError && e.path.endsWith("b_0.db3") && (e.kind === "corrupt" || e.kind === "truncated"));
  });
});

describe("convert/readers: ROS 1 bags (generated)", function () {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "syncbag-ros1-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const compression of ["none", "lz4"] as const) {
    it(`${compression} chunks: Imu converted to ROS 2 CDR (seq dropped, stamps kept), custom type carried as ros1`, async () => {
      const { writeRos1Bag, ros1Serialize, ROS1_IMU_DEFINITION } = await import("./ros1-fixture.js");
      const blobDef = "uint8[] payload\n";
      const messages = [];
      for (let i = 0; i < 60; i++) {
        const t = 1_600_000_000_000_000_000n + BigInt(i) * 10_000_000n;
        const imu = {
          header: { seq: i, stamp: { sec: Number(t / 1_000_000_000n), nsec: Number(t % 1_000_000_000n) }, frame_id: "imu_link" },
          orientation: { x: 0, y: 0, z: Math.sin(i), w: Math.cos(i) },
          orientation_covariance: new Float64Array(9).fill(0.5),
          angular_velocity: { x: i, y: -i, z: 0.25 },
          angular_velocity_covariance: new Float64Array(9),
          linear_acceleration: { x: 0, y: 0, z: 9.81 },
          linear_acceleration_covariance: new Float64Array(9),
        };
        messages.push({ conn: 0, time: t, data: ros1Serialize(ROS1_IMU_DEFINITION, imu) });
        if (i % 3 === 0) messages.push({ conn: 1, time: t + 1n, data: ros1Serialize(blobDef, { payload: new Uint8Array([i, i + 1]) }) });
      }
      const path = join(dir, `gen-${compression}.bag`);
      await writeRos1Bag(path, [{ topic: "/imu", type: "sensor_msgs/Imu", definition: ROS1_IMU_DEFINITION }, { topic: "/blob", type: "acme/Blob", definition: blobDef }], messages, { compression, perChunk: 16 });
      const source = await openRecording(path);
      const read = await drain(source);
      await source.close();
      assert.equal(read.length, messages.length);
      assertLogTimeOrder(read);
      const imu = read.filter((m) => m.topic === "/imu");
      assert.equal(imu.length, 60);
      assert.equal(imu[0]!.encoding, "cdr");
      assert.equal(imu[0]!.type, "sensor_msgs/Imu");
      const decoded = defaultCodec().decode<{ header: { stamp: { sec: number; nanosec: number }; frame_id: string }; angular_velocity: { x: number; y: number }; orientation_covariance: Float64Array }>("sensor_msgs/Imu", imu[17]!.data);
      assert.deepEqual(decoded.header.stamp, { sec: 1_600_000_000, nanosec: 170_000_000 });
      assert.equal(decoded.header.frame_id, "imu_link");
      assert.equal(decoded.angular_velocity.x, 17);
      assert.equal(decoded.angular_velocity.y, -17);
      assert.deepEqual(Array.from(decoded.orientation_covariance), new Array(9).fill(0.5));
      const blob = read.filter((m) => m.topic === "/blob");
      assert.equal(blob.length, 20);
      assert.equal(blob[0]!.encoding, "ros1");
      assert.equal(blob[0]!.schema.encoding, "ros1msg");
      assert.deepEqual(blob[1]!.data, messages.filter((m) => m.conn === 1)[1]!.data, "ros1 bytes carried unchanged");
      assert.ok(source.warnings.some((w) => w.includes("acme/Blob")));
    });
  }

  it("a ROS 1 bag cut before its index is reported as truncated", async () => {
    const path = join(dir, "gen-none.bag");
    const cut = join(dir, "cut.bag");
    const bytes = await readFile(path);
    await writeFile(cut, bytes.subarray(0, Math.floor(bytes.byteLength * 0.7)));
    await assert.rejects(readAll(cut), (e: unknown) => e instanceof RecordingError && e.kind === "truncated" && e.path === cut);
  });
});
