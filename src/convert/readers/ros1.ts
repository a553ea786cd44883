/**
 * ROS 1 bags (v2.0; uncompressed, bz2 or lz4 chunks) via @foxglove/rosbag. Topics whose type has
 * a ROS 2 equivalent in the catalogue (std_msgs, sensor_msgs, geometry_msgs, nav_msgs, tf → tf2_msgs …)
 * are decoded with their ROS 1 definition and re-encoded as ROS 2 CDR, mapped field by field
 * along the ROS 2 definition: fields ROS 2 dropped (Header.seq) are left out, fields ROS 1 lacks get
 * their zero value, time/duration keep sec and nsec → nanosec. Everything else is carried with its
 * ROS 1 schema (encoding ros1, schema ros1msg), exactly as recorded.
 */
import type { FileHandle } from "node:fs/promises";
import type { MessageDefinitionField } from "@foxglove/message-definition";
import { Bag } from "@foxglove/rosbag";
import { parse as parseMsg } from "@foxglove/rosmsg";
import { MessageReader as Ros1Reader } from "@foxglove/rosmsg-serialization";
import type { MessageCatalogue } from "../../messages/catalogue.js";
import { MessageCodec } from "../../messages/codec.js";
import { ros1DecompressHandlers } from "./decompress.js";
import { MinHeap } from "./heap.js";
import { canDecode, catalogueWith, ros2MsgSchemaText, ros2SchemaName } from "./definitions.js";
import { errorText, openRecordingFile, RecordingError, type OpenRecordingOptions, type RecordingMetadata, type RecordingSource, type SourceMessage, type SourceTopic } from "./source.js";

export const ROS1_MAGIC = "#ROSBAG V2.0\n";

/** ROS 1 packages whose messages map one to one onto ROS 2 messages of the same name. */
const CONVERTIBLE_PACKAGES = new Set([
  "std_msgs",
  "sensor_msgs",
  "geometry_msgs",
  "nav_msgs",
  "tf2_msgs",
  "diagnostic_msgs",
  "visualization_msgs",
  "shape_msgs",
  "stereo_msgs",
  "trajectory_msgs",
  "actionlib_msgs",
]);
/** ROS 1 types that became a differently named ROS 2 type. */
const RENAMED: Record<string, string> = { "tf/tfMessage": "tf2_msgs/TFMessage" };

/** The ROS 2 type a ROS 1 type converts to, if the catalogue knows it. */
export function ros2EquivalentOf(ros1Type: string, catalogue: MessageCatalogue): string | undefined {
  const target = RENAMED[ros1Type] ?? ros1Type;
  const pkg = target.split("/")[0]!;
  if (!CONVERTIBLE_PACKAGES.has(pkg) && RENAMED[ros1Type] === undefined) return undefined;
  return canDecode(catalogue, target) ? target : undefined;
}

function zeroOf(field: MessageDefinitionField): unknown {
  if (field.isArray) return field.arrayLength !== undefined ? Array.from({ length: field.arrayLength }, () => zeroOf({ ...field, isArray: false })) : [];
  switch (field.type) {
    case "string":
    case "wstring":
      return "";
    case "bool":
      return false;
    case "int64":
    case "uint64":
      return 0n;
    case "time":
    case "duration":
      return { sec: 0, nanosec: 0 };
    default:
      return 0;
  }
}

/** Maps a decoded ROS 1 value onto a ROS 2 type's shape (see the module comment). */
export function toRos2Shape(catalogue: MessageCatalogue, type: string, value: unknown): Record<string, unknown> {
  const source = (value ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const field of catalogue.get(type).definitions) {
    if (field.isConstant) continue;
    const v = source[field.name];
    if (field.isComplex) {
      if (field.isArray) out[field.name] = Array.isArray(v) ? v.map((x) => toRos2Shape(catalogue, field.type, x)) : zeroOf(field);
      else out[field.name] = toRos2Shape(catalogue, field.type, v);
    } else if (v === undefined) {
      out[field.name] = zeroOf(field);
    } else if ((field.type === "int64" || field.type === "uint64") && typeof v === "number") {
      out[field.name] = BigInt(v);
    } else {
      out[field.name] = v;
    }
  }
  return out;
}

class FileLike {
  constructor(
    readonly handle: FileHandle,
    readonly bytes: number,
  ) {}
  size(): number {
    return this.bytes;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset + length > this.bytes) throw new Error(`read of ${length} bytes at ${offset} past the end of the file (${this.bytes} bytes)`);
    const buffer = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(buffer, done, length - done, offset + done);
      if (bytesRead === 0) throw new Error(`unexpected end of file at ${offset + done}`);
      done += bytesRead;
    }
    return buffer;
  }
}

type Ros1Decompress = Awaited<ReturnType<typeof ros1DecompressHandlers>>;

interface TopicPlan {
  topic: SourceTopic;
  /** Set when converted: ROS 1 reader and target type. */
  convert?: { reader: Ros1Reader; type: string };
  failures: number;
}

export class Ros1BagSource implements RecordingSource {
  readonly metadata: RecordingMetadata;
  readonly topics: SourceTopic[];
  readonly #warnings: string[];
  readonly #bag: Bag;
  readonly #handle: FileHandle;
  readonly #plans = new Map<string, TopicPlan>();
  readonly #codec: MessageCodec;
  readonly #salvage: boolean;
  readonly #decompress: Ros1Decompress;

  private constructor(
    readonly path: string,
    readonly definitions: MessageCatalogue,
    bag: Bag,
    handle: FileHandle,
    bytes: number,
    salvage: boolean,
    decompress: Ros1Decompress,
  ) {
    this.#decompress = decompress;
    this.#bag = bag;
    this.#handle = handle;
    this.#salvage = salvage;
    this.#warnings = [];
    this.#codec = new MessageCodec(definitions);
    const counts = new Map<number, number>();
    for (const info of bag.chunkInfos) for (const c of info.connections) counts.set(c.conn, (counts.get(c.conn) ?? 0) + c.count);
    const byTopic = new Map<string, { type: string; definition: string; count: number }>();
    for (const connection of bag.connections.values()) {
      const type = connection.type ?? "";
      const known = byTopic.get(connection.topic);
      const count = counts.get(connection.conn) ?? 0;
      if (known === undefined) byTopic.set(connection.topic, { type, definition: connection.messageDefinition, count });
      else {
        known.count += count;
        if (known.type !== type) this.#warnings.push(`topic ${connection.topic} recorded with types ${known.type} and ${type}; all messages carried as ${known.type}`);
      }
    }
    const converted: string[] = [];
    const carried: string[] = [];
    const encoder = new TextEncoder();
    for (const [topicName, info] of [...byTopic].sort(([a], [b]) => a.localeCompare(b))) {
      const target = ros2EquivalentOf(info.type, definitions);
      let plan: TopicPlan;
      if (target !== undefined) {
        let reader: Ros1Reader | undefined;
        try {
          reader = new Ros1Reader(parseMsg(info.definition));
        } catch (error) {
          this.#warnings.push(`ROS 1 definition of ${info.type} (topic ${topicName}) does not parse (${errorText(error)}): carried as ros1`);
        }
        if (reader !== undefined) {
          plan = {
            topic: { topic: topicName, type: target, encoding: "cdr", schema: { name: ros2SchemaName(target), encoding: "ros2msg", data: encoder.encode(ros2MsgSchemaText(definitions, target)) }, messageCount: info.count, decodable: true, ros1Type: info.type },
            convert: { reader, type: target },
            failures: 0,
          };
          converted.push(`${info.type}${target !== info.type ? ` → ${target}` : ""}`);
          this.#plans.set(topicName, plan);
          continue;
        }
      }
      plan = { topic: { topic: topicName, type: info.type, encoding: "ros1", schema: { name: info.type, encoding: "ros1msg", data: encoder.encode(info.definition) }, messageCount: info.count, decodable: false }, failures: 0 };
      carried.push(info.type);
      this.#plans.set(topicName, plan);
    }
    if (carried.length > 0) this.#warnings.push(`no ROS 2 equivalent for ${[...new Set(carried)].sort().join(", ")}: carried with the ROS 1 schema (encoding ros1)`);
    this.topics = [...this.#plans.values()].map((p) => p.topic);
    const start = bag.startTime;
    const end = bag.endTime;
    this.metadata = {
      format: "ros1",
      files: [path],
      bytes,
      ...(start !== undefined ? { startTime: BigInt(start.sec) * 1_000_000_000n + BigInt(start.nsec) } : {}),
      ...(end !== undefined ? { endTime: BigInt(end.sec) * 1_000_000_000n + BigInt(end.nsec) } : {}),
      messageCount: [...counts.values()].reduce((a, b) => a + b, 0),
      details: { bagVersion: "2.0", chunks: String(bag.chunkInfos.length), converted: [...new Set(converted)].sort().join(", ") },
    };
  }

  static async open(path: string, options: OpenRecordingOptions = {}): Promise<Ros1BagSource> {
    const { handle, bytes } = await openRecordingFile(path);
    try {
      const head = new Uint8Array(ROS1_MAGIC.length);
      await handle.read(head, 0, head.byteLength, 0);
      if (new TextDecoder().decode(head) !== ROS1_MAGIC) throw new RecordingError("corrupt", path, "not a ROS 1 bag v2.0 (bad magic)");
      const decompress = await ros1DecompressHandlers();
      const bag = new Bag(new FileLike(handle, bytes), { decompress, parse: false });
      try {
        await bag.open();
      } catch (error) {
        throw new RecordingError(
          "truncated",
          path,
          `bag index unreadable (${errorText(error)}); the bag is truncated or was never indexed (\`rosbag reindex\` repairs the latter)`,
        );
      }
      if (bag.header !== undefined && bag.header.indexPosition === 0) throw new RecordingError("truncated", path, "bag has no index (recording was interrupted): run `rosbag reindex`");
      return new Ros1BagSource(path, catalogueWith(options.msgPaths), bag, handle, bytes, options.salvage ?? false, decompress);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }

  get warnings(): readonly string[] {
    return this.#warnings;
  }

  /**
   * The bag's messages in log-time order, read chunk by chunk through its chunk records (not
   * @foxglove/rosbag's iterator): messages sharing a log time keep their order in the file (the
   * merge is stable: chunk order, then each connection's index order), and a damaged chunk is
   * named by its byte offset; with salvage it is skipped and every intact chunk, also those
   * after it, is kept.
   */
  async *#events(): AsyncGenerator<{ topic: string; timestamp: { sec: number; nsec: number }; data: Uint8Array }> {
    const ns = (t: { sec: number; nsec: number }): bigint => BigInt(t.sec) * 1_000_000_000n + BigInt(t.nsec);
    const chunks = [...this.#bag.chunkInfos].sort((a, b) => {
      const d = ns(a.startTime) - ns(b.startTime);
      return d < 0n ? -1 : d > 0n ? 1 : a.chunkPosition - b.chunkPosition;
    });
    const heap = new MinHeap<{ topic: string; timestamp: { sec: number; nsec: number }; data: Uint8Array }>();
    const damaged: string[] = [];
    let kept = 0;
    const load = async (chunk: (typeof chunks)[number]): Promise<void> => {
      let messages;
      try {
        messages = await this.#bag.reader.readChunkMessages(chunk, chunk.connections.map((c) => c.conn), chunk.startTime, chunk.endTime, this.#decompress);
      } catch (error) {
        const problem = new RecordingError("corrupt", this.path, `chunk at byte ${chunk.chunkPosition} (${chunk.count} messages): ${errorText(error)}`);
        if (!this.#salvage) throw problem;
        damaged.push(problem.reason);
        return;
      }
      kept++;
      for (const m of messages) {
        const connection = this.#bag.connections.get(m.conn);
        if (connection === undefined || m.data === undefined) throw new RecordingError("corrupt", this.path, `chunk at byte ${chunk.chunkPosition}: message on undeclared connection ${m.conn}`);
        heap.push(ns(m.time), { topic: connection.topic, timestamp: m.time, data: m.data });
      }
    };
    let next = 0;
    while (next < chunks.length || heap.size > 0) {
      while (next < chunks.length && (heap.size === 0 || ns(chunks[next]!.startTime) <= heap.peekKey()!)) await load(chunks[next++]!);
      const m = heap.pop();
      if (m !== undefined) yield m;
    }
    if (damaged.length > 0) this.#warnings.push(`salvaged: ${damaged.length} of ${chunks.length} chunks damaged and skipped (${damaged.join("; ")}); the ${kept} intact chunks are kept, also those after the damage`);
  }

  async *messages(): AsyncIterable<SourceMessage> {
    try {
      for await (const event of this.#events()) {
        const plan = this.#plans.get(event.topic);
        if (plan === undefined) throw new RecordingError("corrupt", this.path, `message on undeclared topic ${event.topic}`);
        const logTime = BigInt(event.timestamp.sec) * 1_000_000_000n + BigInt(event.timestamp.nsec);
        let data = event.data;
        if (plan.convert !== undefined) {
          try {
            const decoded = plan.convert.reader.readMessage(event.data);
            data = this.#codec.encode(plan.convert.type, toRos2Shape(this.definitions, plan.convert.type, decoded));
          } catch (error) {
            if (plan.failures++ === 0) this.#warnings.push(`${event.topic}: a ${plan.topic.ros1Type} message could not be converted (${errorText(error)}); such messages are dropped`);
            continue;
          }
        }
        yield { topic: event.topic, type: plan.topic.type, data, logTime, encoding: plan.topic.encoding, schema: plan.topic.schema };
      }
    } catch (error) {
      const problem = error instanceof RecordingError ? error : new RecordingError("corrupt", this.path, errorText(error));
      if (!this.#salvage) throw problem;
      this.#warnings.push(`salvaged: ${problem.message}`);
    }
    for (const plan of this.#plans.values()) {
      if (plan.failures > 1) this.#warnings.push(`${plan.topic.topic}: ${plan.failures} ${plan.topic.ros1Type} messages could not be converted and were dropped`);
    }
  }

  async close(): Promise<void> {
    await this.#handle.close().catch(() => undefined);
  }
}
