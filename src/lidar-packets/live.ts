/**
 * Live decoding: on a running transport (in-process or rclnodejs), each configured packet topic
 * is subscribed raw and every sweep its packets complete is published as a
 * sensor_msgs/PointCloud2 on `<topic>/points` (or the entry's cloud_topic), as nebula's driver
 * node would publish it — so the node's own lidar subscription can take it like any cloud.
 *
 * Configuration: the same entries as conversion (LidarPacketConfig per topic), e.g. from the node
 * parameter string `lidarPacketsParameter()` reads:
 *   "/velodyne_packets=VLP32C,/cal/VLP32C.yaml,Dual; /pandar_packets=PandarXT32,/cal/xt32.csv"
 * A bad entry refuses to start with one line (LidarConfigError); packet problems are counted per
 * topic and reported by `problemLines()`, never thrown from a subscription callback.
 *
 * The node starts it from its `lidar_packets` parameter (src/pipeline/create.ts) with
 * `subscribe: false`: the node subscribes the packet topic itself, records each packet message
 * unchanged and hands it to `ingest()`, so one reader serves both. The lidar sensor of its
 * alignment config names the cloud topic.
 */
import type { QosProfile, RawMessage, RawPublisher, Subscription, Transport } from "../transport/port.js";
import { SENSOR_DATA_QOS } from "../transport/port.js";
import { defaultCodec } from "../messages/codec.js";
import { MessageCatalogue } from "../messages/catalogue.js";
import { pointCloud2 } from "./cloud.js";
import { createPacketDecoder, LidarConfigError, type LidarPacketConfig, type PacketCloudDecoder } from "./index.js";
import { lidarPacketOptions } from "./options.js";
import { addPacketDefinitions, isOusterPacketType, isPacketScanType } from "./scan-msgs.js";

export interface LivePacketTopic {
  topic: string;
  /** The packet message type published on it (velodyne_msgs/msg/VelodyneScan, pandar_msgs/msg/PandarScan, nebula_msgs/msg/NebulaPackets, Ouster PacketMsg). */
  type: string;
  config: LidarPacketConfig;
  /** Folder relative calibration paths are read from. */
  baseDir?: string;
}

/** Reads the node parameter: `<topic>=<model>,<calibration>[,<return mode>]` entries separated by ';'. */
export function lidarPacketsParameter(value: string, cwd = process.cwd()): Record<string, LidarPacketConfig> {
  const specs = value.split(";").map((s) => s.trim()).filter((s) => s !== "");
  const parsed = lidarPacketOptions(undefined, specs, cwd);
  if (parsed.problems.length > 0) throw new LidarConfigError(parsed.problems.map((p) => p.replace(/^--lidar-packet /, "lidar_packets: ")).join("; "));
  return parsed.topics as Record<string, LidarPacketConfig>;
}

/** Packet message type a model's driver publishes, for a topic not yet advertised. */
function defaultPacketType(model: string): string {
  if (/^OS-?/.test(model)) return "ouster_sensor_msgs/msg/PacketMsg";
  if (/^(VLP|VLS)/.test(model)) return "velodyne_msgs/msg/VelodyneScan";
  return "pandar_msgs/msg/PandarScan";
}

/**
 * The node parameter's entries with their packet types: the type the topic is advertised with
 * when a publisher is already up (e.g. nebula_msgs/msg/NebulaPackets), else the model's driver's.
 */
export function livePacketTopics(parameter: string, transport: Pick<Transport, "topics">): LivePacketTopic[] {
  const advertised = new Map(transport.topics().map((t) => [t.topic, t.type]));
  return Object.entries(lidarPacketsParameter(parameter)).map(([topic, config]) => ({ topic, type: advertised.get(topic) ?? defaultPacketType(config.sensor_model), config }));
}

let packetCatalogue: MessageCatalogue | undefined;
/**
 * The MCAP schema text (ros2msg) of a type, the packet types included: the recorder's schema
 * source on a node that records packet topics (the standard catalogue has no packet types).
 * Throws UnknownMessageTypeError like `schemaText`.
 */
export function schemaTextWithPackets(type: string): string {
  if (packetCatalogue === undefined) {
    packetCatalogue = MessageCatalogue.standard();
    addPacketDefinitions(packetCatalogue);
  }
  return packetCatalogue.schemaText(type);
}

export interface LivePacketOptions {
  /** Subscribe each packet topic here (default); false when the caller subscribes and calls `ingest()`. */
  subscribe?: boolean;
}

interface Entry {
  topic: string;
  decoder: PacketCloudDecoder;
  publisher: RawPublisher;
  subscription: Subscription | null;
  counter: { sweeps: number };
}

export class LivePacketDecoding {
  readonly #entries: Entry[];
  readonly #byTopic: Map<string, (message: RawMessage) => void>;

  private constructor(entries: Entry[], handlers: Map<string, (message: RawMessage) => void>) {
    this.#entries = entries;
    this.#byTopic = handlers;
  }

  /** Builds every decoder first (one bad entry: nothing subscribed, LidarConfigError), then subscribes and advertises. */
  static async start(transport: Transport, topics: readonly LivePacketTopic[], qos: QosProfile = SENSOR_DATA_QOS, options: LivePacketOptions = {}): Promise<LivePacketDecoding> {
    const built: { t: LivePacketTopic; decoder: PacketCloudDecoder; cloudTopic: string }[] = [];
    for (const t of topics) {
      if (!isPacketScanType(t.type) && !isOusterPacketType(t.type)) throw new LidarConfigError(`${t.topic}: ${t.type} is not a lidar packet type syncbag decodes`);
      const decoder = await createPacketDecoder(t.config, { ...(t.baseDir !== undefined ? { baseDir: t.baseDir } : {}), topic: t.topic, type: t.type });
      built.push({ t, decoder, cloudTopic: t.config.cloud_topic ?? `${t.topic.replace(/\/+$/, "")}/points` });
    }
    const codec = defaultCodec();
    const entries: Entry[] = [];
    const handlers = new Map<string, (message: RawMessage) => void>();
    for (const { t, decoder, cloudTopic } of built) {
      const publisher = transport.advertise(cloudTopic, "sensor_msgs/PointCloud2", qos);
      const counter = { sweeps: 0 };
      const handle = (m: RawMessage): void => {
        // The decoder counts bad bytes itself; a sweep is published as soon as its packets complete it.
        for (const cloud of decoder.decodeMessage(m.type, m.data)) {
          publisher.publish(codec.encode("sensor_msgs/PointCloud2", pointCloud2(cloud)));
          decoder.recycle(cloud); // encoded (copied): later sweeps reuse its storage
          counter.sweeps++;
        }
      };
      handlers.set(t.topic, handle);
      const subscription = options.subscribe === false ? null : transport.subscribeRaw(t.topic, t.type, qos, handle);
      entries.push({ topic: t.topic, decoder, publisher, subscription, counter });
    }
    return new LivePacketDecoding(entries, handlers);
  }

  /** Decodes one packet message received by the caller's own subscription (`subscribe: false`); other topics are ignored. */
  ingest(message: RawMessage): void {
    this.#byTopic.get(message.topic)?.(message);
  }

  /** Sweeps published per packet topic. */
  sweeps(): Record<string, number> {
    return Object.fromEntries(this.#entries.map((e) => [e.topic, e.counter.sweeps]));
  }

  /** One line per problem kind and topic: `<topic> (<model>): <count>× <first occurrence>`. */
  problemLines(): string[] {
    return this.#entries.flatMap((e) => e.decoder.problems.lines().map((l) => `${e.topic} (${e.decoder.model}): ${l}`));
  }

  close(): void {
    for (const e of this.#entries) {
      e.subscription?.close();
      e.publisher.close();
    }
  }
}
