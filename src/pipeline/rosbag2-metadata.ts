/**
 * A recording folder as rosbag2 reads it: metadata.yaml (rosbag2_bagfile_information, version 9,
 * storage mcap), as `ros2 bag record -s mcap` writes it, so `ros2 bag info <folder>` (and
 * `ros2 bag play <folder>`) open the folder, not only each file. Built from the finished files'
 * summaries (statistics, channels, schemas) after the recorder closed them.
 */
import { existsSync } from "node:fs";
import { open, readFile, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { McapIndexedReader } from "@mcap/core";
import { FileReadable } from "../record/file-readable.js";
import { normalizeTypeName } from "../messages/catalogue.js";

const MARKER = "# Written by syncbag";

interface FileSummary {
  name: string;
  start: bigint;
  end: bigint;
  count: bigint;
  topics: Map<string, { type: string; encoding: string; qos: string; count: bigint }>;
}

/** `pkg/Type` → `pkg/msg/Type`, the spelling rosbag2 writes. */
function rosbag2Type(type: string): string {
  const parts = normalizeTypeName(type).split("/");
  return parts.length === 2 ? `${parts[0]}/msg/${parts[1]}` : type;
}

async function summarise(path: string): Promise<FileSummary> {
  const handle = await open(path, "r");
  try {
    const readable = await FileReadable.of(handle);
    const reader = await McapIndexedReader.Initialize({ readable });
    const stats = reader.statistics;
    const topics: FileSummary["topics"] = new Map();
    for (const [id, channel] of reader.channelsById) {
      const count = stats?.channelMessageCounts.get(id) ?? 0n;
      const schema = reader.schemasById.get(channel.schemaId);
      const entry = topics.get(channel.topic) ?? { type: rosbag2Type(schema?.name ?? ""), encoding: channel.messageEncoding, qos: channel.metadata.get("offered_qos_profiles") ?? "", count: 0n };
      entry.count += count;
      topics.set(channel.topic, entry);
    }
    return { name: basename(path), start: stats?.messageStartTime ?? 0n, end: stats?.messageEndTime ?? 0n, count: stats?.messageCount ?? 0n, topics };
  } finally {
    await handle.close();
  }
}

const quote = (text: string): string => JSON.stringify(text);

/**
 * Writes `<folder>/metadata.yaml` for these files (one recording's splits, all in one folder).
 * Leaves a metadata.yaml it did not write alone and says so; returns the path written, or null.
 */
export async function writeRosbag2Metadata(files: readonly string[], distro = process.env.ROS_DISTRO ?? "jazzy"): Promise<string | null> {
  if (files.length === 0) return null;
  const folder = dirname(files[0]!);
  const path = join(folder, "metadata.yaml");
  if (existsSync(path) && !(await readFile(path, "utf8")).startsWith(MARKER)) {
    throw new Error(`${path} exists and was not written by syncbag; left as it is`);
  }
  const summaries = await Promise.all(files.map((f) => summarise(f)));
  const withMessages = summaries.filter((s) => s.count > 0n);
  const start = withMessages.length === 0 ? 0n : withMessages.reduce((m, s) => (s.start < m ? s.start : m), withMessages[0]!.start);
  const end = withMessages.reduce((m, s) => (s.end > m ? s.end : m), start);
  const topics = new Map<string, { type: string; encoding: string; qos: string; count: bigint }>();
  for (const s of summaries) {
    for (const [topic, t] of s.topics) {
      const entry = topics.get(topic) ?? { ...t, count: 0n };
      entry.count += t.count;
      topics.set(topic, entry);
    }
  }
  const total = summaries.reduce((n, s) => n + s.count, 0n);
  const topicLines = [...topics]
    .map(
      ([name, t]) => `    - topic_metadata:
        name: ${quote(name)}
        type: ${quote(t.type)}
        serialization_format: ${quote(t.encoding)}
        offered_qos_profiles: ${t.qos.trim() === "" ? "[]" : `\n${t.qos.replace(/^/gm, "          ")}`}
        type_description_hash: ""
      message_count: ${t.count}`,
    )
    .join("\n");
  const fileLines = summaries
    .map(
      (s) => `    - path: ${quote(s.name)}
      starting_time:
        nanoseconds_since_epoch: ${s.start}
      duration:
        nanoseconds: ${s.end - s.start}
      message_count: ${s.count}`,
    )
    .join("\n");
  const yaml = `${MARKER} (one recording's files; rosbag2 reads them as one bag)
rosbag2_bagfile_information:
  version: 9
  storage_identifier: mcap
  duration:
    nanoseconds: ${end - start}
  starting_time:
    nanoseconds_since_epoch: ${start}
  message_count: ${total}
  topics_with_message_count:
${topicLines}
  compression_format: ""
  compression_mode: ""
  relative_file_paths:
${summaries.map((s) => `    - ${quote(s.name)}`).join("\n")}
  files:
${fileLines}
  custom_data: ~
  ros_distro: ${quote(distro)}
`;
  await writeFile(path, yaml);
  return path;
}
