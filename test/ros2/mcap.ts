/** MCAP read-back for the ROS 2 suites: every record streamed (DataEnd seen?), then the indexed reader. */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { McapIndexedReader, McapStreamReader } from "@mcap/core";
import { FileReadable } from "../../src/record/file-readable.js";
import { mcapDecompressHandlers } from "../../src/convert/readers/decompress.js";

export interface McapMessage {
  topic: string;
  data: Uint8Array;
  logTime: bigint;
  publishTime: bigint;
}

export interface McapContents {
  /** The file ends with a DataEnd record (finalised, not cut off). */
  dataEnd: boolean;
  messages: McapMessage[];
  /** topic → message encoding / schema name and encoding. */
  channels: Map<string, { messageEncoding: string; schemaName: string; schemaEncoding: string }>;
  metadataNames: string[];
}

export function readMcap(path: string): McapContents {
  const bytes = readFileSync(path);
  const reader = new McapStreamReader({ decompressHandlers: mcapDecompressHandlers(), validateCrcs: true });
  reader.append(bytes);
  const schemas = new Map<number, { name: string; encoding: string }>();
  const channelsById = new Map<number, { topic: string; messageEncoding: string; schemaId: number }>();
  const out: McapContents = { dataEnd: false, messages: [], channels: new Map(), metadataNames: [] };
  for (let record; (record = reader.nextRecord()) !== undefined; ) {
    switch (record.type) {
      case "Schema":
        schemas.set(record.id, { name: record.name, encoding: record.encoding });
        break;
      case "Channel": {
        channelsById.set(record.id, { topic: record.topic, messageEncoding: record.messageEncoding, schemaId: record.schemaId });
        const schema = schemas.get(record.schemaId);
        out.channels.set(record.topic, { messageEncoding: record.messageEncoding, schemaName: schema?.name ?? "", schemaEncoding: schema?.encoding ?? "" });
        break;
      }
      case "Message":
        out.messages.push({ topic: channelsById.get(record.channelId)?.topic ?? "?", data: record.data, logTime: record.logTime, publishTime: record.publishTime });
        break;
      case "Metadata":
        out.metadataNames.push(record.name);
        break;
      case "DataEnd":
        out.dataEnd = true;
        break;
      default:
        break;
    }
  }
  return out;
}

/** Opens the file with @mcap/core's indexed reader (needs the summary and footer) and counts messages. */
export async function indexedMessageCount(path: string): Promise<number> {
  const handle = await open(path, "r");
  try {
    const readable = await FileReadable.of(handle);
    const reader = await McapIndexedReader.Initialize({ readable, decompressHandlers: mcapDecompressHandlers() });
    let n = 0;
    for await (const _ of reader.readMessages()) n++;
    return n;
  } finally {
    await handle.close();
  }
}

/** The MCAP files under a folder (recursively), sorted. */
export function mcapFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...mcapFiles(path));
    else if (entry.name.endsWith(".mcap")) out.push(path);
  }
  return out.sort();
}

export function digest(data: Uint8Array): string {
  return createHash("sha1").update(data).digest("hex");
}

/**
 * A serialized message as a subscriber receives it over Cyclone DDS: the publisher's bytes,
 * zero-padded to a multiple of 4 (Cyclone's serdata keeps whole 4-byte words; `ros2 bag record`
 * stores the same padded bytes).
 */
export function asDelivered(data: Uint8Array): Uint8Array {
  const padded = new Uint8Array(Math.ceil(data.byteLength / 4) * 4);
  padded.set(data);
  return padded;
}

/** topic → sorted digests of its messages: equal maps mean the same bytes, message for message. */
export function digestsByTopic(messages: readonly McapMessage[], topics?: ReadonlySet<string>, transform: (data: Uint8Array) => Uint8Array = (d) => d): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of messages) {
    if (topics !== undefined && !topics.has(m.topic)) continue;
    const list = out.get(m.topic) ?? [];
    list.push(digest(transform(m.data)));
    out.set(m.topic, list);
  }
  for (const list of out.values()) list.sort();
  return out;
}
