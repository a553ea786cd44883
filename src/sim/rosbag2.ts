/**
 * Writes a drive as `ros2 bag record -s mcap` would (rosbag2 Jazzy, metadata version 9):
 *
 *   <out>/<name>/metadata.yaml         rosbag2_bagfile_information
 *   <out>/<name>/<name>_0.mcap         profile ros2, schemas ros2msg, messages cdr
 *   <out>/<name>.truth.json            the simulator's ground truth (beside the bag folder)
 *
 * Matching rosbag2_storage_mcap: one channel per topic with metadata `offered_qos_profiles` (YAML)
 * and `topic_type_hash`; schema names `pkg/msg/Type`; message log_time = receive time,
 * publish_time = the publisher's send time, sequence 0; chunked, uncompressed by default (768 KiB
 * chunks); a `rosbag2` metadata record with `serialized_metadata` at the end.
 * `compression: "zstd"` / `"zstd_small"` correspond to the `zstd_fast` / `zstd_small` storage presets.
 * Not reproduced: `type_description_hash` (RIHS01) is left empty.
 */
import { open, mkdir, writeFile, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { McapWriter, type IWritable } from "@mcap/core";
import { compress } from "zstd-napi";
import type { QosProfile } from "../transport/port.js";
import type { SimDrive, SimMessage, SimTopic } from "./drive.js";
import { schemaText as ros2msgSchemaText } from "../messages/catalogue.js";
import { rosbag2TypeName } from "./schema-text.js";

export interface WriteRosbag2Options {
  /** Folder that receives `<name>/` and `<name>.truth.json`. */
  outDir: string;
  /** Bag name (folder and file stem). */
  name: string;
  /** Chunk compression: none (rosbag2's default), zstd (the zstd_fast preset) or zstd_small (the zstd_small preset: slowest level, 4 MiB chunks). */
  compression?: "none" | "zstd" | "zstd_small";
  /** Default 768 KiB, as the MCAP C++ writer rosbag2 uses. */
  chunkSize?: number;
  rosDistro?: string;
}

export interface Rosbag2Result {
  bagDir: string;
  mcapPath: string;
  metadataPath: string;
  truthPath: string;
  messageCount: number;
  bytes: number;
}

/** IWritable over a file handle; writes are sequential, so the position is just the byte count. */
class FileWritable implements IWritable {
  #position = 0n;
  constructor(readonly handle: FileHandle) {}
  async write(buffer: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < buffer.byteLength) {
      const { bytesWritten } = await this.handle.write(buffer, offset, buffer.byteLength - offset);
      offset += bytesWritten;
    }
    this.#position += BigInt(buffer.byteLength);
  }
  position(): bigint {
    return this.#position;
  }
}

const INFINITE = "\n    sec: 9223372036\n    nsec: 854775807";

/** One QoS profile as rosbag2 (metadata v9) writes it, indented by `pad`. */
function qosYaml(qos: QosProfile, pad: string): string {
  const lines = [
    `- history: ${qos.history}`,
    `  depth: ${qos.depth}`,
    `  reliability: ${qos.reliability}`,
    `  durability: ${qos.durability}`,
    `  deadline:${INFINITE}`,
    `  lifespan:${INFINITE}`,
    `  liveliness: automatic`,
    `  liveliness_lease_duration:${INFINITE}`,
    `  avoid_ros_namespace_conventions: false`,
  ];
  return lines
    .join("\n")
    .split("\n")
    .map((l) => pad + l)
    .join("\n");
}

interface TopicStats {
  topic: SimTopic;
  count: number;
}

function metadataYaml(opts: { name: string; file: string; startNs: bigint; durationNs: bigint; count: number; topics: TopicStats[]; compression: string; distro: string }): string {
  const topics = opts.topics
    .map(
      (t) => `    - topic_metadata:
        name: ${t.topic.topic}
        type: ${rosbag2TypeName(t.topic.type)}
        serialization_format: cdr
        offered_qos_profiles:
${qosYaml(t.topic.qos, "          ")}
        type_description_hash: ""
      message_count: ${t.count}`,
    )
    .join("\n");
  return `rosbag2_bagfile_information:
  version: 9
  storage_identifier: mcap
  duration:
    nanoseconds: ${opts.durationNs}
  starting_time:
    nanoseconds_since_epoch: ${opts.startNs}
  message_count: ${opts.count}
  topics_with_message_count:
${topics}
  compression_format: ""
  compression_mode: ""
  relative_file_paths:
    - ${opts.file}
  files:
    - path: ${opts.file}
      starting_time:
        nanoseconds_since_epoch: ${opts.startNs}
      duration:
        nanoseconds: ${opts.durationNs}
      message_count: ${opts.count}
  custom_data: ~
  ros_distro: ${opts.distro}
`;
}

/**
 * Writes the drive's messages (iterating it) as a rosbag2 MCAP folder, then its truth file.
 * `messages` defaults to the drive's own iterator; pass a filtered iterable to record a subset.
 */
export async function writeRosbag2(drive: SimDrive, options: WriteRosbag2Options, messages: Iterable<SimMessage> = drive): Promise<Rosbag2Result> {
  const bagDir = join(options.outDir, options.name);
  await mkdir(bagDir, { recursive: true });
  const file = `${options.name}_0.mcap`;
  const mcapPath = join(bagDir, file);
  const handle = await open(mcapPath, "w");
  const writable = new FileWritable(handle);
  const compression = options.compression ?? "none";
  const writer = new McapWriter({
    writable,
    useChunks: true,
    chunkSize: options.chunkSize ?? (compression === "zstd_small" ? 4 * 1024 * 1024 : 768 * 1024),
    compressChunk:
      compression === "none" ? undefined : (data) => ({ compression: "zstd", compressedData: compress(data, { compressionLevel: compression === "zstd" ? 1 : 19 }) }),
  });
  const stats = new Map<string, TopicStats>();
  const channels = new Map<string, number>();
  let count = 0;
  let first: bigint | null = null;
  let last = 0n;
  try {
    await writer.start({ profile: "ros2", library: "syncbag sim (rosbag2_storage_mcap layout)" });
    const schemas = new Map<string, number>();
    for (const topic of drive.topics) {
      const typeName = rosbag2TypeName(topic.type);
      let schemaId = schemas.get(typeName);
      if (schemaId === undefined) {
        schemaId = await writer.registerSchema({ name: typeName, encoding: "ros2msg", data: new TextEncoder().encode(ros2msgSchemaText(topic.type)) });
        schemas.set(typeName, schemaId);
      }
      const metadata = new Map([
        ["offered_qos_profiles", qosYaml(topic.qos, "") + "\n"],
        ["topic_type_hash", ""],
      ]);
      channels.set(topic.topic, await writer.registerChannel({ topic: topic.topic, messageEncoding: "cdr", schemaId, metadata }));
      stats.set(topic.topic, { topic, count: 0 });
    }
    for (const m of messages) {
      const channelId = channels.get(m.topic);
      if (channelId === undefined) throw new Error(`writeRosbag2: message on unknown topic ${m.topic}`);
      await writer.addMessage({ channelId, sequence: 0, logTime: m.receiveNs, publishTime: m.sendNs, data: m.data });
      stats.get(m.topic)!.count++;
      count++;
      first ??= m.receiveNs;
      if (m.receiveNs > last) last = m.receiveNs;
    }
    const startNs = first ?? drive.startNs;
    const yaml = metadataYaml({ name: options.name, file, startNs, durationNs: first === null ? 0n : last - startNs, count, topics: [...stats.values()], compression, distro: options.rosDistro ?? "jazzy" });
    await writer.addMetadata({ name: "rosbag2", metadata: new Map([["serialized_metadata", yaml]]) });
    await writer.end();
    await writeFile(join(bagDir, "metadata.yaml"), yaml);
  } finally {
    await handle.close();
  }
  const truthPath = join(options.outDir, `${options.name}.truth.json`);
  await writeFile(truthPath, JSON.stringify(drive.truth()) + "\n");
  return { bagDir, mcapPath, metadataPath: join(bagDir, "metadata.yaml"), truthPath, messageCount: count, bytes: Number(writable.position()) };
}
