/** Shared fixtures for recorder tests: deterministic messages, temp dirs, MCAP read-back. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McapIndexedReader, McapStreamReader, type IReadable, type TypedMcapRecords } from "@mcap/core";
import { loadDecompressHandlers } from "@mcap/support";
import type { OutboundMessage } from "../../src/messages/outbound.js";
import { defaultSchemaProvider, type SchemaProvider } from "../../src/record/schemas.js";

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "syncbag-record-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** xorshift32: deterministic bytes without Math.random. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

export function bytes(length: number, seed: number, compressible = true): Uint8Array {
  const next = prng(seed);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = compressible && i % 4 !== 0 ? i & 0x0f : next() & 0xff;
  return out;
}

export const TEST_TYPES: Record<string, string> = {
  "sensor_msgs/PointCloud2": "# test definition\nuint8[] data\n",
  "sensor_msgs/CompressedImage": "string format\nuint8[] data\n",
  "syncbag/VehicleTelemetry": "float64 speed\n",
};

const fallback = defaultSchemaProvider();
/** Small fixed ros2msg texts for the test types (the catalogue's schemaText may not exist yet); the catalogue for the rest. */
export const testSchemas: SchemaProvider = (name, encoding) =>
  encoding === "cdr" && TEST_TYPES[name] !== undefined ? { name, encoding: "ros2msg", data: new TextEncoder().encode(TEST_TYPES[name]) } : fallback(name, encoding);

const TOPICS = [
  { topic: "/lidar/top", type: "sensor_msgs/PointCloud2", size: 40_000 },
  { topic: "/camera/front/image/compressed", type: "sensor_msgs/CompressedImage", size: 9_000 },
  { topic: "/vehicle/telemetry", type: "syncbag/VehicleTelemetry", size: 64 },
];

/** `count` messages round-robin over three topics, log time 10 ms apart from `start`, each payload unique. */
export function messageStream(count: number, start = 1_700_000_000_000_000_000n, stepNs = 10_000_000n): OutboundMessage[] {
  const out: OutboundMessage[] = [];
  for (let i = 0; i < count; i++) {
    const t = TOPICS[i % TOPICS.length]!;
    const data = bytes(t.size + (i % 7), i + 1);
    new DataView(data.buffer).setUint32(0, i, true); // index in the payload: identifies the message
    const logTime = start + BigInt(i) * stepNs;
    out.push({ topic: t.topic, schemaName: t.type, encoding: "cdr", data, logTime, publishTime: logTime - 3_000_000n });
  }
  return out;
}

export interface ReadMessage {
  topic: string;
  logTime: bigint;
  publishTime: bigint;
  data: Uint8Array;
}

export interface IndexedContents {
  reader: McapIndexedReader;
  messages: ReadMessage[];
  metadata: Map<string, Map<string, string>>;
}

class BufferReadable implements IReadable {
  constructor(readonly buffer: Uint8Array) {}
  async size(): Promise<bigint> {
    return BigInt(this.buffer.byteLength);
  }
  async read(offset: bigint, length: bigint): Promise<Uint8Array> {
    return this.buffer.subarray(Number(offset), Number(offset + length));
  }
}

/** Reads with @mcap/core's indexed reader and @mcap/support's WebAssembly decoders (what Foxglove uses). */
export async function readIndexed(path: string): Promise<IndexedContents> {
  const buffer = readFileSync(path);
  const reader = await McapIndexedReader.Initialize({ readable: new BufferReadable(buffer), decompressHandlers: await loadDecompressHandlers() });
  const messages: ReadMessage[] = [];
  for await (const m of reader.readMessages()) {
    messages.push({ topic: reader.channelsById.get(m.channelId)!.topic, logTime: m.logTime, publishTime: m.publishTime, data: m.data });
  }
  const metadata = new Map<string, Map<string, string>>();
  for await (const m of reader.readMetadata()) metadata.set(m.name, m.metadata);
  return { reader, messages, metadata };
}

/** Reads every record with @mcap/core's stream reader; returns messages in file order. */
export async function readStream(path: string): Promise<{ messages: ReadMessage[]; records: TypedMcapRecords[keyof TypedMcapRecords][] }> {
  const stream = new McapStreamReader({ decompressHandlers: await loadDecompressHandlers(), validateCrcs: true });
  const handle = await open(path, "r");
  try {
    const channels = new Map<number, string>();
    const messages: ReadMessage[] = [];
    const records: TypedMcapRecords[keyof TypedMcapRecords][] = [];
    const buffer = Buffer.alloc(1 << 20);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, null);
      if (bytesRead === 0) break;
      stream.append(buffer.subarray(0, bytesRead));
      for (let record; (record = stream.nextRecord()); ) {
        records.push(record);
        if (record.type === "Channel") channels.set(record.id, record.topic);
        if (record.type === "Message") messages.push({ topic: channels.get(record.channelId)!, logTime: record.logTime, publishTime: record.publishTime, data: record.data });
      }
    }
    if (!stream.done()) throw new Error("stream reader did not reach the end magic");
    return { messages, records };
  } finally {
    await handle.close();
  }
}

export function sameMessages(actual: ReadMessage[], expected: OutboundMessage[]): string | null {
  if (actual.length !== expected.length) return `count ${actual.length} != ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (a.topic !== e.topic || a.logTime !== e.logTime || a.publishTime !== e.publishTime) return `message ${i}: header differs`;
    if (Buffer.compare(Buffer.from(a.data), Buffer.from(e.data)) !== 0) return `message ${i}: bytes differ`;
  }
  return null;
}

export function waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (predicate()) resolve();
      else if (Date.now() > deadline) reject(new Error("timed out"));
      else setTimeout(poll, 10);
    };
    poll();
  });
}
