/**
 * MCAP files, every valid variant: with a summary and chunk indexes the indexed reader gives
 * log-time order directly; otherwise (no summary, no chunk indexes, unchunked, or a truncated
 * file) a first streaming pass collects schemas, channels and the time range, and the second
 * pass streams messages through a bounded reorder buffer. CRCs are always checked.
 */
import { createReadStream } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { McapIndexedReader, McapRecordBuilder, McapStreamReader, type McapTypes } from "@mcap/core";
import { mcapDecompressHandlers } from "./decompress.js";
import type { TopicDescription } from "./definitions.js";
import type { FileMessage, StorageFileReader } from "./file-reader.js";
import { MinHeap } from "./heap.js";
import { FileReadable } from "../../record/file-readable.js";
import { readChunkRecord } from "../../record/scan.js";
import { errorText, openRecordingFile, RecordingError } from "./source.js";

type TypedMcapRecord = McapTypes.TypedMcapRecord;
type Channel = McapTypes.TypedMcapRecords["Channel"];
type Schema = McapTypes.TypedMcapRecords["Schema"];

export const MCAP_MAGIC = new Uint8Array([0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a]);

/**
 * Every record of an MCAP file in file order, chunks expanded (Chunk and MessageIndex records
 * are consumed, not yielded). Throws RecordingError: corrupt (bad magic, CRC, record) or
 * truncated (the file ends inside a record or before the footer).
 */
export async function* readMcapRecords(path: string, options: { validateCrcs?: boolean } = {}): AsyncGenerator<TypedMcapRecord> {
  const reader = new McapStreamReader({ decompressHandlers: mcapDecompressHandlers(), validateCrcs: options.validateCrcs ?? true });
  let offset = 0;
  let sawFooter = false;
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    for await (const piece of stream as AsyncIterable<Buffer>) {
      reader.append(piece);
      offset += piece.byteLength;
      for (;;) {
        let record: TypedMcapRecord | undefined;
        try {
          record = reader.nextRecord();
        } catch (error) {
          throw new RecordingError("corrupt", path, `${errorText(error)} (within the first ${offset} bytes)`);
        }
        if (record === undefined) break;
        if (record.type === "Footer") sawFooter = true;
        if (record.type === "MessageIndex") continue;
        yield record;
      }
    }
  } catch (error) {
    if (error instanceof RecordingError) throw error;
    throw new RecordingError("unreadable", path, errorText(error));
  } finally {
    stream.destroy();
  }
  if (offset === 0) throw new RecordingError("truncated", path, "empty file");
  if (!reader.done() || !sawFooter) {
    throw new RecordingError("truncated", path, `file ends after ${offset} bytes ${reader.bytesRemaining() > 0 ? "inside a record" : "before the footer"}`);
  }
}

/**
 * `--salvage` for an MCAP without a usable index: its records in file order, each parsed on its
 * own (CRCs checked). A record that does not parse is skipped with the damaged bytes up to the
 * next record that does (found by scanning for a known opcode whose length fits and whose record
 * parses: a chunk after a damaged one is found again), so every intact chunk is kept. Each
 * skipped region is reported through `onDamage` with its byte offsets.
 */
export async function* salvageMcapRecords(path: string, onDamage: (where: string) => void): AsyncGenerator<TypedMcapRecord> {
  const handle = await open(path, "r");
  try {
    const size = (await handle.stat()).size;
    const read = async (at: number, length: number): Promise<Uint8Array> => {
      const buffer = new Uint8Array(length);
      const { bytesRead } = await handle.read(buffer, 0, length, at);
      return buffer.subarray(0, bytesRead);
    };
    const schemas = new Map<number, Schema>();
    const channels = new Map<number, Channel>();
    let prelude: Uint8Array | undefined;
    /** The record at `at` parsed with the schemas and channels known so far, or the reason it does not parse. */
    const parseAt = async (at: number): Promise<{ records: TypedMcapRecord[]; end: number; opcode: number } | { error: string; declaredEnd?: number }> => {
      const head = await read(at, 9);
      if (head.byteLength < 9) return { error: `truncated: the file ends inside a record header at byte ${at}` };
      const opcode = head[0]!;
      const length = new DataView(head.buffer, head.byteOffset, 9).getBigUint64(1, true);
      if (opcode < 0x01 || opcode > 0x0f) return { error: `unknown opcode 0x${opcode.toString(16)} at byte ${at}` };
      if (length > BigInt(size - at - 9)) return { error: `truncated: record at byte ${at} (opcode 0x${opcode.toString(16)}) needs ${9n + length} bytes, the file ends ${size - at} bytes after its start` };
      const bytes = await read(at, 9 + Number(length));
      // Rebuilt only when a schema or channel was added (unchunked files: one record per message).
      if (prelude === undefined) {
        const builder = new McapRecordBuilder();
        builder.writeMagic();
        for (const schema of schemas.values()) builder.writeSchema(schema);
        for (const channel of channels.values()) builder.writeChannel(channel);
        prelude = builder.buffer.slice();
      }
      const skip = schemas.size + channels.size;
      try {
        const parser = new McapStreamReader({ decompressHandlers: mcapDecompressHandlers(), validateCrcs: true });
        parser.append(prelude);
        parser.append(bytes);
        const records: TypedMcapRecord[] = [];
        for (let r = parser.nextRecord(), i = 0; r !== undefined; r = parser.nextRecord(), i++) if (i >= skip) records.push(r);
        return { records, end: at + 9 + Number(length), opcode };
      } catch (error) {
        return { error: `record at byte ${at} (opcode 0x${opcode.toString(16)}): ${errorText(error)}`, declaredEnd: at + 9 + Number(length) };
      }
    };
    let sawChunk = false;
    /**
     * Where reading resumes after a damaged record at `at`: its declared end when a record parses
     * there (the damage was inside it), else the next offset where a record parses, or the file's
     * end. Once the file has shown chunks, only a chunk (CRC-protected) is taken as a resumption
     * point: an uncompressed damaged chunk holds message records that would parse on their own.
     */
    const resync = async (at: number, declaredEnd: number | undefined): Promise<number> => {
      if (declaredEnd !== undefined && declaredEnd < size && "records" in (await parseAt(declaredEnd))) return declaredEnd;
      const from = at + 1;
      const window = 1 << 20;
      for (let base = from; base < size; base += window) {
        const bytes = await read(base, Math.min(window, size - base));
        for (let i = 0; i < bytes.byteLength; i++) {
          const opcode = bytes[i]!;
          // Only records that start a data-section run: a chunk, or what unchunked files hold.
          if (opcode !== 0x06 && (sawChunk || (opcode !== 0x05 && opcode !== 0x03 && opcode !== 0x04 && opcode !== 0x0c))) continue;
          const at = base + i;
          const parsed = await parseAt(at);
          if ("records" in parsed) return at;
        }
      }
      return size;
    };
    let at = 8;
    while (at < size) {
      const parsed = await parseAt(at);
      if ("error" in parsed) {
        const next = await resync(at, parsed.declaredEnd);
        onDamage(next < size ? `bytes ${at}–${next} skipped (${parsed.error})` : `bytes ${at}–${size} (the end) skipped (${parsed.error})`);
        at = next;
        continue;
      }
      if (parsed.opcode === 0x06) sawChunk = true;
      at = parsed.end;
      let ended = false;
      for (const record of parsed.records) {
        if (record.type === "Schema") {
          schemas.set(record.id, record);
          prelude = undefined;
        } else if (record.type === "Channel") {
          channels.set(record.id, record);
          prelude = undefined;
        } else if (record.type === "DataEnd" || record.type === "Footer") ended = true;
        if (record.type !== "MessageIndex") yield record;
      }
      if (ended) break;
    }
  } finally {
    await handle.close();
  }
}

export interface McapFileOptions {
  reorderBufferBytes?: number;
  /** Keep what a truncated/corrupt file yields (warning) instead of throwing. */
  salvage?: boolean;
}

interface ScanResult {
  schemas: Map<number, Schema>;
  channels: Map<number, Channel>;
  counts: Map<number, number>;
  start?: bigint;
  end?: bigint;
  count: number;
  sorted: boolean;
  header?: McapTypes.TypedMcapRecords["Header"];
  metadata: McapTypes.TypedMcapRecords["Metadata"][];
  problem?: RecordingError;
  /** With salvage: the damaged byte ranges skipped (the records around them are kept). */
  damage: string[];
  salvage: boolean;
}

function describeChannels(channels: ReadonlyMap<number, Channel>, schemas: ReadonlyMap<number, Schema>, counts: ReadonlyMap<number, number>): TopicDescription[] {
  const out: TopicDescription[] = [];
  for (const channel of [...channels.values()].sort((a, b) => a.id - b.id)) {
    const schema = schemas.get(channel.schemaId);
    const qos = channel.metadata.get("offered_qos_profiles");
    out.push({
      topic: channel.topic,
      type: schema?.name ?? "",
      encoding: channel.messageEncoding,
      ...(schema !== undefined ? { schema: { name: schema.name, encoding: schema.encoding, data: schema.data } } : {}),
      ...(counts.has(channel.id) ? { messageCount: counts.get(channel.id)! } : {}),
      ...(qos !== undefined ? { qos } : {}),
    });
  }
  return out;
}

/**
 * The indexed reader needs chunk indexes with message indexes, and every channel in the summary (a writer may leave
 * channels out of it: they are then only inside the chunks, which the streaming pass reads).
 */
function indexedReaderUsable(reader: McapIndexedReader): boolean {
  if (reader.chunkIndexes.length === 0 || reader.channelsById.size === 0) return false;
  if (reader.statistics !== undefined && reader.statistics.channelCount > reader.channelsById.size) return false;
  // Without message indexes the indexed reader refuses chunks; the streaming pass reads them.
  return reader.chunkIndexes.every((c) => c.messageIndexOffsets.size > 0 && [...c.messageIndexOffsets.keys()].every((id) => reader.channelsById.has(id)));
}

/** One MCAP file. Use `McapFileReader.open`. */
export class McapFileReader implements StorageFileReader {
  readonly topics: TopicDescription[];
  readonly startTime?: bigint;
  readonly endTime?: bigint;
  readonly messageCount?: number;
  readonly details: Record<string, string>;
  /** Metadata records (e.g. rosbag2's serialized_metadata). */
  readonly metadataRecords: { name: string; metadata: Map<string, string> }[];
  readonly #channels: ReadonlyMap<number, Channel>;
  readonly #indexed: McapIndexedReader | undefined;
  readonly #readable: FileReadable | undefined;
  readonly #handle: FileHandle | undefined;
  readonly #scan: ScanResult | undefined;
  readonly #options: McapFileOptions;

  private constructor(
    readonly path: string,
    readonly bytes: number,
    init: {
      indexed?: McapIndexedReader;
      readable?: FileReadable;
      handle?: FileHandle;
      scan?: ScanResult;
      options: McapFileOptions;
      metadataRecords: { name: string; metadata: Map<string, string> }[];
    },
  ) {
    this.#indexed = init.indexed;
    this.#readable = init.readable;
    this.#handle = init.handle;
    this.#scan = init.scan;
    this.#options = init.options;
    this.metadataRecords = init.metadataRecords;
    if (init.indexed !== undefined) {
      const r = init.indexed;
      const counts = new Map<number, number>();
      for (const [id, n] of r.statistics?.channelMessageCounts ?? []) counts.set(id, Number(n));
      this.#channels = r.channelsById;
      this.topics = describeChannels(r.channelsById, r.schemasById, counts);
      const starts = r.chunkIndexes.map((c) => c.messageStartTime);
      const ends = r.chunkIndexes.map((c) => c.messageEndTime);
      this.startTime = r.statistics?.messageStartTime ?? (starts.length > 0 ? starts.reduce((a, b) => (b < a ? b : a)) : undefined);
      this.endTime = r.statistics?.messageEndTime ?? (ends.length > 0 ? ends.reduce((a, b) => (b > a ? b : a)) : undefined);
      if (r.statistics !== undefined) this.messageCount = Number(r.statistics.messageCount);
      this.details = { mode: "indexed", profile: r.header.profile, library: r.header.library, chunks: String(r.chunkIndexes.length) };
    } else {
      const scan = init.scan!;
      this.#channels = scan.channels;
      this.topics = describeChannels(scan.channels, scan.schemas, scan.counts);
      if (scan.start !== undefined) this.startTime = scan.start;
      if (scan.end !== undefined) this.endTime = scan.end;
      this.messageCount = scan.count;
      this.details = { mode: "streamed", profile: scan.header?.profile ?? "", library: scan.header?.library ?? "" };
    }
  }

  /** Opens with the indexed reader when the file has chunk indexes, else scans it once. Throws RecordingError. */
  static async open(path: string, options: McapFileOptions = {}): Promise<McapFileReader> {
    const { handle, bytes } = await openRecordingFile(path);
    try {
      const magic = new Uint8Array(8);
      await handle.read(magic, 0, 8, 0);
      if (bytes < 8 || !magic.every((b, i) => b === MCAP_MAGIC[i])) throw new RecordingError("corrupt", path, "not an MCAP file (bad magic)");
      let indexed: McapIndexedReader | undefined;
      const readable = new FileReadable(handle, BigInt(bytes));
      try {
        indexed = await McapIndexedReader.Initialize({ readable, decompressHandlers: mcapDecompressHandlers() });
      } catch {
        indexed = undefined; // no footer/summary, or an unusable one: the streaming scan finds out why
      }
      if (indexed !== undefined && indexedReaderUsable(indexed)) {
        const metadataRecords: { name: string; metadata: Map<string, string> }[] = [];
        try {
          for await (const m of indexed.readMetadata()) metadataRecords.push({ name: m.name, metadata: m.metadata });
        } catch {
          // Metadata is informational; its loss never blocks the messages.
        }
        return new McapFileReader(path, bytes, { indexed, readable, handle, options, metadataRecords });
      }
      await handle.close();
      const scan = await McapFileReader.#scanFile(path, options.salvage ?? false);
      if (scan.problem !== undefined && !(options.salvage ?? false)) throw scan.problem;
      return new McapFileReader(path, bytes, { scan, options, metadataRecords: scan.metadata.map((m) => ({ name: m.name, metadata: m.metadata })) });
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }

  static async #scanFile(path: string, salvage: boolean): Promise<ScanResult> {
    const scan: ScanResult = { schemas: new Map(), channels: new Map(), counts: new Map(), count: 0, sorted: true, metadata: [], damage: [], salvage };
    let last: bigint | undefined;
    try {
      for await (const record of salvage ? salvageMcapRecords(path, (where) => scan.damage.push(where)) : readMcapRecords(path)) {
        switch (record.type) {
          case "Header":
            scan.header = record;
            break;
          case "Schema":
            scan.schemas.set(record.id, record);
            break;
          case "Channel":
            scan.channels.set(record.id, record);
            break;
          case "Metadata":
            scan.metadata.push(record);
            break;
          case "Message": {
            scan.count++;
            scan.counts.set(record.channelId, (scan.counts.get(record.channelId) ?? 0) + 1);
            const t = record.logTime;
            if (scan.start === undefined || t < scan.start) scan.start = t;
            if (scan.end === undefined || t > scan.end) scan.end = t;
            if (last !== undefined && t < last) scan.sorted = false;
            last = t;
            break;
          }
          default:
            break;
        }
      }
    } catch (error) {
      if (!(error instanceof RecordingError)) throw error;
      scan.problem = error;
    }
    return scan;
  }

  /**
   * Reading through the index: every chunk the summary lists is read on its own (CRC checked)
   * and the chunks are merged in log-time order (a chunk is opened once the earliest message
   * held is not before its start, as the indexed reader does; ties keep chunk and file order).
   * A damaged chunk is named by its byte offset; with salvage it is skipped and the intact
   * ones, including those after the damage, are kept.
   */
  async *#readIndexed(indexed: McapIndexedReader, readable: FileReadable, warnings: string[], salvage: boolean): AsyncGenerator<FileMessage> {
    const chunks = [...indexed.chunkIndexes].sort((a, b) => (a.messageStartTime < b.messageStartTime ? -1 : a.messageStartTime > b.messageStartTime ? 1 : Number(a.chunkStartOffset - b.chunkStartOffset)));
    const heap = new MinHeap<FileMessage>();
    const damaged: string[] = [];
    let kept = 0;
    // The next chunk's bytes are read while this one is parsed and consumed (reads go to libuv's
    // pool): chunks are loaded strictly in `chunks` order, so the next one is always known.
    let prefetch: { index: number; bytes: Promise<Uint8Array> } | undefined;
    const bytesOf = (index: number): Promise<Uint8Array> => {
      const c = chunks[index]!;
      const bytes = prefetch?.index === index ? prefetch.bytes : readable.read(c.chunkStartOffset, c.chunkLength);
      prefetch = undefined;
      if (index + 1 < chunks.length) {
        const n = chunks[index + 1]!;
        const ahead = readable.read(n.chunkStartOffset, n.chunkLength);
        ahead.catch(() => undefined); // its failure surfaces when the chunk is loaded
        prefetch = { index: index + 1, bytes: ahead };
      }
      return bytes;
    };
    const load = async (index: number): Promise<void> => {
      const chunk = chunks[index]!;
      const messages: FileMessage[] = [];
      try {
        // Our own chunk parser, not @mcap/core's stream reader: that one copied every chunk into
        // its buffer and every message out of it, and checked CRCs in JS (together half of a
        // standard-rig conversion's CPU). Messages here are views into the chunk.
        const { inner } = readChunkRecord(await bytesOf(index), Number(chunk.chunkStartOffset));
        for (const record of inner) {
          if (record.kind !== "message") continue;
          const m = record.value;
          const channel = this.#channels.get(m.channelId);
          if (channel === undefined) throw new Error(`message on unknown channel ${m.channelId}`);
          messages.push({ topic: channel.topic, logTime: m.logTime, publishTime: m.publishTime, data: m.data });
        }
      } catch (error) {
        const where = `chunk at byte ${chunk.chunkStartOffset} (${chunk.chunkLength} bytes): ${errorText(error)}`;
        if (!salvage) throw new RecordingError("corrupt", this.path, where);
        damaged.push(where);
        return;
      }
      kept++;
      for (const m of messages) heap.push(m.logTime, m);
    };
    let next = 0;
    while (next < chunks.length || heap.size > 0) {
      while (next < chunks.length && (heap.size === 0 || chunks[next]!.messageStartTime <= heap.peekKey()!)) await load(next++);
      const m = heap.pop();
      if (m !== undefined) yield m;
    }
    if (damaged.length > 0) warnings.push(`salvaged: ${this.path}: ${damaged.length} of ${chunks.length} chunks damaged and skipped (${damaged.join("; ")}); the ${kept} intact chunks are kept, also those after the damage`);
  }

  async *messages(warnings: string[]): AsyncGenerator<FileMessage> {
    if (this.#indexed !== undefined && this.#readable !== undefined) {
      yield* this.#readIndexed(this.#indexed, this.#readable, warnings, this.#options.salvage ?? false);
      return;
    }
    const scan = this.#scan!;
    if (scan.problem !== undefined) warnings.push(`salvaged: ${scan.problem.message}; messages up to that point are kept`);
    if (scan.damage.length > 0) warnings.push(`salvaged: ${this.path} (no usable index): ${scan.damage.length} damaged region${scan.damage.length === 1 ? "" : "s"} skipped (${scan.damage.join("; ")}); every intact record around them is kept`);
    const limit = this.#options.reorderBufferBytes ?? 64 << 20;
    const heap = new MinHeap<FileMessage>();
    let held = 0;
    let lastOut: bigint | undefined;
    let late = 0;
    const emit = (m: FileMessage): FileMessage => {
      if (lastOut !== undefined && m.logTime < lastOut) late++;
      else lastOut = m.logTime;
      return m;
    };
    let seen = 0;
    try {
      for await (const record of scan.salvage ? salvageMcapRecords(this.path, () => undefined) : readMcapRecords(this.path)) {
        if (record.type !== "Message") continue;
        if (scan.problem !== undefined && seen >= scan.count) break;
        seen++;
        const channel = scan.channels.get(record.channelId) ?? this.#channels.get(record.channelId);
        if (channel === undefined) throw new RecordingError("corrupt", this.path, `message on unknown channel ${record.channelId}`);
        const m: FileMessage = { topic: channel.topic, logTime: record.logTime, publishTime: record.publishTime, data: record.data };
        if (scan.sorted) {
          yield emit(m);
          continue;
        }
        heap.push(m.logTime, m);
        held += m.data.byteLength + 64;
        while (held > limit && heap.size > 0) {
          const out = heap.pop()!;
          held -= out.data.byteLength + 64;
          yield emit(out);
        }
      }
    } catch (error) {
      if (!(error instanceof RecordingError) || scan.problem === undefined) throw error;
    }
    while (heap.size > 0) yield emit(heap.pop()!);
    if (late > 0) warnings.push(`${this.path}: ${late} messages out of log-time order beyond the ${limit}-byte reorder buffer (file has no index); they are passed on late`);
  }

  async close(): Promise<void> {
    await this.#handle?.close().catch(() => undefined);
  }
}
