/** Recordings written on the fly for reader and batch tests. */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, open, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { McapWriter, type McapWriterOptions } from "@mcap/core";
import { compressFrameSync } from "lz4-napi";
import { compress as zstdCompress } from "zstd-napi";
import { defaultCodec } from "../../src/messages/codec.js";
import { FileWritable } from "../../src/convert/file-writable.js";
import { ros2MsgSchemaText } from "../../src/convert/readers/definitions.js";
import { defaultCatalogue } from "../../src/messages/catalogue.js";

export interface FixtureMessage {
  topic: string;
  logTime: bigint;
  data: Uint8Array;
}

/** An Imu message (CDR) whose stamp and angular_velocity.x encode `i`, so tests can check content. */
export function imuCdr(i: number, stampNs: bigint): Uint8Array {
  return defaultCodec().encode("sensor_msgs/Imu", {
    header: { stamp: { sec: Number(stampNs / 1_000_000_000n), nanosec: Number(stampNs % 1_000_000_000n) }, frame_id: "imu" },
    orientation: { x: 0, y: 0, z: 0, w: 1 },
    orientation_covariance: new Array(9).fill(0),
    angular_velocity: { x: i, y: 0, z: 0 },
    angular_velocity_covariance: new Array(9).fill(0),
    linear_acceleration: { x: 0, y: 0, z: 9.81 },
    linear_acceleration_covariance: new Array(9).fill(0),
  });
}

/** Two topics (Imu at 100 Hz, String at 10 Hz) over `seconds`, optionally written out of log-time order. */
export function fixtureMessages(seconds = 1, start = 1_700_000_000_000_000_000n, shuffled = false): FixtureMessage[] {
  const out: FixtureMessage[] = [];
  for (let i = 0; i < 100 * seconds; i++) {
    const t = start + BigInt(i) * 10_000_000n;
    out.push({ topic: "/imu", logTime: t, data: imuCdr(i, t) });
    if (i % 10 === 5) out.push({ topic: "/text", logTime: t + 1n, data: defaultCodec().encode("std_msgs/String", { data: `m${i}` }) });
  }
  if (shuffled) for (let i = 0; i + 3 < out.length; i += 4) [out[i], out[i + 3]] = [out[i + 3]!, out[i]!];
  return out;
}

export type McapVariant = Omit<McapWriterOptions, "writable" | "compressChunk"> & { compression?: "none" | "zstd" | "lz4" };

export async function writeMcap(path: string, messages: readonly FixtureMessage[], variant: McapVariant = {}): Promise<void> {
  const handle = await open(path, "w");
  const { compression = "none", ...rest } = variant;
  const writable = new FileWritable(handle);
  const writer = new McapWriter({
    writable,
    ...rest,
    ...(compression === "zstd" ? { compressChunk: (d: Uint8Array) => ({ compression: "zstd", compressedData: zstdCompress(d) }) } : {}),
    ...(compression === "lz4" ? { compressChunk: (d: Uint8Array) => ({ compression: "lz4", compressedData: compressFrameSync(Buffer.from(d)) }) } : {}),
  });
  await writer.start({ profile: "ros2", library: "syncbag-test" });
  const encoder = new TextEncoder();
  const channels = new Map<string, number>();
  for (const [topic, type] of [["/imu", "sensor_msgs/Imu"], ["/text", "std_msgs/String"]] as const) {
    const schemaId = await writer.registerSchema({ name: type.replace("/", "/msg/"), encoding: "ros2msg", data: encoder.encode(ros2MsgSchemaText(defaultCatalogue(), type)) });
    channels.set(topic, await writer.registerChannel({ topic, schemaId, messageEncoding: "cdr", metadata: new Map() }));
  }
  let sequence = 0;
  for (const m of messages) {
    await writer.addMessage({ channelId: channels.get(m.topic)!, sequence: sequence++, logTime: m.logTime, publishTime: m.logTime, data: m.data });
  }
  await writer.end();
  await writable.flush();
  await handle.close();
}

/** A rosbag2 folder (metadata v5, like Humble) with the given storage files already written. */
export async function writeMetadataYaml(folder: string, files: string[], storage: string, topics: { name: string; type: string; count: number }[]): Promise<void> {
  await mkdir(folder, { recursive: true });
  const total = topics.reduce((n, t) => n + t.count, 0);
  const lines = [
    "rosbag2_bagfile_information:",
    "  version: 5",
    `  storage_identifier: ${JSON.stringify(storage)}`,
    "  duration:\n    nanoseconds: 1000000000",
    "  starting_time:\n    nanoseconds_since_epoch: 1700000000000000000",
    `  message_count: ${total}`,
    "  topics_with_message_count:",
    ...topics.flatMap((t) => [
      "    - topic_metadata:",
      `        name: ${t.name}`,
      `        type: ${t.type}`,
      "        serialization_format: cdr",
      '        offered_qos_profiles: ""',
      `      message_count: ${t.count}`,
    ]),
    '  compression_format: ""',
    '  compression_mode: ""',
    "  relative_file_paths:",
    ...files.map((f) => `    - ${f}`),
  ];
  await writeFile(join(folder, "metadata.yaml"), lines.join("\n") + "\n");
}

interface SqliteDb {
  exec(sql: string): void;
  prepare(sql: string): { run(...args: unknown[]): unknown };
  transaction(fn: () => void): () => void;
  close(): void;
}

/** better-sqlite3's Database, or null when its native binding is not built. */
export function loadBetterSqlite(): (new (path: string) => SqliteDb) | null {
  try {
    const Database = createRequire(import.meta.url)("better-sqlite3") as new (path: string) => SqliteDb;
    new Database(":memory:").close();
    return Database;
  } catch {
    return null;
  }
}

/**
 * A rosbag2 sqlite3 storage file with one topic, as `ros2 bag record -s sqlite3` lays it out (the
 * metadata.yaml is the caller's), and the statement inserting (timestamp, data) rows; null
 * without the binding. Close the returned db when done.
 */
export function createRosbag2Db3(file: string, topic: string, type: string): { db: SqliteDb; insert: { run(...args: unknown[]): unknown } } | null {
  const Database = loadBetterSqlite();
  if (Database === null) return null;
  const db = new Database(file);
  db.exec("CREATE TABLE topics(id INTEGER PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, serialization_format TEXT NOT NULL, offered_qos_profiles TEXT NOT NULL)");
  db.exec("CREATE TABLE messages(id INTEGER PRIMARY KEY, topic_id INTEGER NOT NULL, timestamp INTEGER NOT NULL, data BLOB NOT NULL)");
  db.exec("CREATE INDEX timestamp_idx ON messages (timestamp ASC)");
  db.prepare("INSERT INTO topics VALUES (1, ?, ?, 'cdr', '')").run(topic, type);
  return { db, insert: db.prepare("INSERT INTO messages (topic_id, timestamp, data) VALUES (1, ?, ?)") };
}

/**
 * A rosbag2 folder (sqlite3 storage) of `mib` 1 MiB sensor_msgs/Image messages (a 1024×1024 mono8
 * camera at 10 Hz, each frame its own), written with better-sqlite3; false when its binding is not built.
 */
export async function writeImageDb3Bag(folder: string, mib: number): Promise<boolean> {
  if (loadBetterSqlite() === null) return false;
  await writeMetadataYaml(folder, ["bag_0.db3"], "sqlite3", [{ name: "/camera/image_raw", type: "sensor_msgs/msg/Image", count: mib }]);
  const { db, insert } = createRosbag2Db3(join(folder, "bag_0.db3"), "/camera/image_raw", "sensor_msgs/msg/Image")!;
  const codec = defaultCodec();
  const pixels = new Uint8Array(1 << 20);
  db.transaction(() => {
    for (let i = 0; i < mib; i++) {
      for (let k = 0; k < pixels.length; k += 1024) pixels[k] = (i + k) & 0xff; // each frame its own
      const ns = 1_700_000_000_000_000_000n + BigInt(i) * 100_000_000n;
      const data = codec.encode("sensor_msgs/Image", { header: { stamp: { sec: Number(ns / 1_000_000_000n), nanosec: Number(ns % 1_000_000_000n) }, frame_id: "camera" }, height: 1024, width: 1024, encoding: "mono8", is_bigendian: 0, step: 1024, data: pixels });
      insert.run(ns, data);
    }
  })();
  db.close();
  return true;
}

/**
 * Peak resident memory (VmHWM, bytes: the process and its worker threads, polled from /proc, so
 * Linux only) of `syncbag convert <input> -o <outDir> -j 1`, the CLI started as `command` (node
 * arguments: the built bin, or tsx and src/cli/main.ts).
 */
export async function convertPeakRss(command: string[], input: string, outDir: string): Promise<number> {
  const child = spawn(process.execPath, [...command, "convert", input, "-o", outDir, "-j", "1", "--force", "--json"], { stdio: ["ignore", "ignore", "pipe"] });
  let peak = 0, log = "";
  child.stderr!.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
      if (m) peak = Math.max(peak, Number(m[1]) * 1024);
    } catch {
      // exited between polls: the last reading stands
    }
  }, 50);
  const code = await new Promise<number | null>((done) => child.once("exit", done));
  clearInterval(poll);
  if (code !== 0) throw new Error(`bench: syncbag convert ${input} exited ${code}: ${log}`);
  return peak;
}
