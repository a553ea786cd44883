/**
 * Conversion wiring: a RecordingSource whose lidar packet topics are decoded into clouds. Every
 * message of the recording is yielded unchanged (packets are recorded byte for byte); after a
 * packet-scan message that completes a sweep, the sweep follows as a sensor_msgs/PointCloud2 on
 * `<packet topic>/points` (or the configured cloud_topic), logged at the packet message's log time
 * — when the driver would have published it — so the pipeline aligns and suggests it like any
 * lidar. Each messages() call decodes afresh (the converter reads a recording twice).
 *
 * Configuration per packet topic comes with the conversion (`syncbag convert --lidar-packets <file>`
 * or `--lidar-packet <topic>=<model>,<calibration>[,<return mode>]`, which win topic by topic) or
 * from `lidar_packets.yaml` beside the recording (inside a rosbag2 folder, or
 * `<recording>.lidar_packets.yaml`, or in the recording's directory):
 *   /velodyne_packets: { sensor_model: VLP16, return_mode: Dual, calibration_file: VLP16.yaml }
 * calibration_file relative to the YAML's folder. A packet topic without an entry is carried
 * undecoded, with a warning saying how to decode it; an entry that does not fit its topic
 * (unknown model, calibration for another model, wrong packet type) fails with one line.
 */
import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parse as parseYaml } from "yaml";
import type { RecordingSource, SourceMessage, SourceTopic } from "../convert/readers/source.js";
import { defaultCodec } from "../messages/codec.js";
import { pointCloud2 } from "./cloud.js";
import { createPacketDecoder, LidarConfigError, type LidarPacketConfig, type PacketCloudDecoder } from "./index.js";
import { addPacketDefinitions, isOusterPacketType, isPacketScanType } from "./scan-msgs.js";

export const CONFIG_FILE = "lidar_packets.yaml";

/** Where the packet configuration of a recording is looked for, in order. */
export function configCandidates(recordingPath: string): string[] {
  const isDir = existsSync(recordingPath) && statSync(recordingPath).isDirectory();
  return isDir
    ? [join(recordingPath, CONFIG_FILE), `${recordingPath.replace(/\/+$/, "")}.${CONFIG_FILE}`]
    : [`${recordingPath}.${CONFIG_FILE}`, join(dirname(recordingPath), CONFIG_FILE)];
}

async function loadConfig(recordingPath: string): Promise<{ path: string; topics: Record<string, LidarPacketConfig> } | null> {
  const path = configCandidates(recordingPath).find((p) => existsSync(p));
  if (path === undefined) return null;
  let doc: unknown;
  try {
    doc = parseYaml(await readFile(path, "utf8"));
  } catch (error) {
    throw new LidarConfigError(`${path}: not YAML (${error instanceof Error ? error.message.split("\n")[0] : String(error)})`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new LidarConfigError(`${path}: expected a map of packet topic → { sensor_model, calibration_file, … }`);
  return { path, topics: doc as Record<string, LidarPacketConfig> };
}

/**
 * The source with decoded cloud topics added, or the source itself when it has no packet topics.
 * `warnings` receives lines about undecoded topics and, after each pass, the packet problems.
 */
export async function withDecodedClouds(source: RecordingSource, warnings: string[], given: Record<string, Record<string, unknown>> = {}): Promise<RecordingSource> {
  const anyPackets = Object.keys(given).length > 0 || source.topics.some((t) => isPacketScanType(t.type) || isOusterPacketType(t.type));
  const config = anyPackets ? await loadConfig(source.path) : null;
  // Entries given with the conversion win over the file beside the recording, topic by topic.
  const entryOf = (topic: string): { entry: LidarPacketConfig; baseDir?: string; origin: string } | undefined =>
    Object.hasOwn(given, topic)
      ? { entry: given[topic] as LidarPacketConfig, origin: "the convert option" }
      : config?.topics[topic] !== undefined
        ? { entry: config.topics[topic], baseDir: dirname(config.path), origin: config.path }
        : undefined;
  for (const topic of Object.keys(given)) {
    const t = source.topics.find((x) => x.topic === topic);
    if (t === undefined) {
      warnings.push(`${topic}: lidar packets given with the conversion, but the recording has no such topic`);
    } else if (!isPacketScanType(t.type) && !isOusterPacketType(t.type)) {
      throw new LidarConfigError(`${topic}: given as a lidar packet topic, but it carries ${t.type} (packet types: velodyne_msgs/VelodyneScan, pandar_msgs/PandarScan, nebula_msgs/NebulaPackets, Ouster PacketMsg)`);
    }
  }
  // Ouster packet topics (lidar and IMU share the type) count only when configured.
  const packetTopics = source.topics.filter((t) => (t.encoding === "cdr" && isPacketScanType(t.type)) || (isOusterPacketType(t.type) && entryOf(t.topic) !== undefined));
  if (packetTopics.length === 0) return source;
  const factories = new Map<string, () => Promise<PacketCloudDecoder>>();
  const added: SourceTopic[] = [];
  const cloudTopic = new Map<string, string>();
  for (const t of packetTopics) {
    const found = entryOf(t.topic);
    if (found === undefined) {
      warnings.push(
        // nebula also carries radar packets in NebulaPackets: that line does not assume lidar.
        t.type.includes("NebulaPackets")
          ? `${t.topic}: nebula packets (${t.type}, lidar or radar) carried but not decoded: for lidar packets add an entry for it in ${config?.path ?? configCandidates(source.path)[0]} or a --lidar-packet option (sensor_model, return_mode, calibration_file; see src/lidar-packets/README.md)`
          : `${t.topic}: raw lidar packets (${t.type}) carried but not decoded: no entry for it in ${config?.path ?? configCandidates(source.path)[0]} nor a --lidar-packet option (sensor_model, return_mode, calibration_file; see src/lidar-packets/README.md)`,
      );
      continue;
    }
    const { entry } = found;
    const options = { ...(found.baseDir !== undefined ? { baseDir: found.baseDir } : {}), topic: t.topic, type: t.type };
    // Built once now so a wrong model or calibration fails before any message is read.
    await createPacketDecoder(entry, options);
    factories.set(t.topic, () => createPacketDecoder(entry, options));
    const out = (entry as { cloud_topic?: string }).cloud_topic ?? `${t.topic.replace(/\/+$/, "")}/points`;
    if (source.topics.some((x) => x.topic === out)) throw new LidarConfigError(`${found.origin}: cloud topic ${out} for ${t.topic} already exists in the recording (set cloud_topic)`);
    cloudTopic.set(t.topic, out);
    const schema = defaultCodec().catalogue.schemaText("sensor_msgs/PointCloud2");
    added.push({ topic: out, type: "sensor_msgs/PointCloud2", encoding: "cdr", schema: { name: "sensor_msgs/msg/PointCloud2", encoding: "ros2msg", data: new TextEncoder().encode(schema) }, decodable: true });
  }
  if (factories.size === 0) return source;
  // The packet types' definitions, so that the packets are recorded with their schema (bytes unchanged).
  addPacketDefinitions(source.definitions);
  for (const t of packetTopics) {
    if (!factories.has(t.topic)) continue;
    const stale = warnings.findIndex((w) => w.startsWith("no message definition for") && w.includes(`(topic ${t.topic})`));
    if (stale >= 0) warnings.splice(stale, 1);
  }
  const topics = [...source.topics, ...added];
  const codec = defaultCodec();
  async function* messages(): AsyncGenerator<SourceMessage> {
    const decoders = new Map<string, PacketCloudDecoder>();
    for (const [topic, make] of factories) decoders.set(topic, await make());
    const schema = added[0]!.schema;
    for await (const m of source.messages()) {
      yield m;
      const decoder = decoders.get(m.topic);
      if (decoder === undefined) continue;
      for (const cloud of decoder.decodeMessage(m.type, m.data)) {
        const data = codec.encode("sensor_msgs/PointCloud2", pointCloud2(cloud));
        // Encoded (copied): the decoder writes later sweeps into this one's storage.
        decoder.recycle(cloud);
        yield { topic: cloudTopic.get(m.topic)!, type: "sensor_msgs/PointCloud2", data, logTime: m.logTime, publishTime: m.logTime, encoding: "cdr", schema };
      }
    }
    for (const [topic, decoder] of decoders) {
      for (const line of decoder.problems.lines()) {
        const text = `${topic} (${decoder.model}): ${line}`;
        if (!warnings.includes(text)) warnings.push(text);
      }
    }
  }
  return {
    path: source.path,
    metadata: source.metadata,
    topics,
    definitions: source.definitions,
    get warnings() {
      return source.warnings;
    },
    messages,
    close: () => source.close(),
  };
}
