/**
 * A tolerant, sequential scan of an MCAP file's data section, record by record, reading one
 * record at a time from disk (memory stays bounded by the largest chunk). Used where the
 * summary cannot be trusted: recovering a file cut by a crash, and inspecting a truncated one.
 *
 * A chunk that fails (bad CRC, undecodable compression, malformed inner records) is reported
 * and skipped — the records after it are still read. The scan stops where the file can no
 * longer be followed: end of file, a record cut short, or a record header that makes no sense.
 */
import { open } from "node:fs/promises";
import { crc32 } from "./crc.js";
import { Opcode } from "@mcap/core";
import { decompressChunk } from "./compression.js";
import { MCAP_MAGIC } from "./mcap-writer.js";

/** An MCAP file that cannot be read at all, or not past some point: says what and where. */
export class McapFileError extends Error {
  constructor(
    readonly path: string,
    readonly offset: number | null,
    what: string,
  ) {
    super(`${path}: ${what}${offset !== null ? ` (at byte ${offset})` : ""}`);
    this.name = "McapFileError";
  }
}

export interface ScannedSchema {
  id: number;
  name: string;
  encoding: string;
  data: Uint8Array;
}
export interface ScannedChannel {
  id: number;
  schemaId: number;
  topic: string;
  messageEncoding: string;
  metadata: Map<string, string>;
}
export interface ScannedMessage {
  channelId: number;
  sequence: number;
  logTime: bigint;
  publishTime: bigint;
  data: Uint8Array;
}
export interface ScannedChunk {
  offset: number;
  /** Bytes of the whole Chunk record (opcode and length included). */
  length: number;
  compression: string;
  compressedSize: number;
  uncompressedSize: number;
  messageStartTime: bigint;
  messageEndTime: bigint;
}

export interface ScanHandlers {
  header?(profile: string, library: string): void;
  schema?(schema: ScannedSchema): void;
  channel?(channel: ScannedChannel): void;
  /** `chunk` is null for a message outside any chunk. */
  message?(message: ScannedMessage, chunk: ScannedChunk | null): void;
  metadata?(name: string, metadata: Map<string, string>): void;
  attachment?(attachment: { name: string; mediaType: string; logTime: bigint; createTime: bigint; data: Uint8Array }): void;
  /** A chunk fully read (its messages were delivered before this call). */
  chunk?(chunk: ScannedChunk, messages: number): void | Promise<void>;
  /** A chunk (or attachment) that could not be read; nothing of it was delivered. */
  damaged?(offset: number, what: string): void;
}

export interface ScanResult {
  bytes: number;
  /** Where the data section was left: end of data (DataEnd seen) or why the scan stopped. */
  stop: { offset: number; reason: string; clean: boolean };
  chunks: number;
  damagedRecords: number;
}

const OPCODE_NAMES: Record<number, string> = {
  [Opcode.HEADER]: "Header",
  [Opcode.FOOTER]: "Footer",
  [Opcode.SCHEMA]: "Schema",
  [Opcode.CHANNEL]: "Channel",
  [Opcode.MESSAGE]: "Message",
  [Opcode.CHUNK]: "Chunk",
  [Opcode.MESSAGE_INDEX]: "MessageIndex",
  [Opcode.CHUNK_INDEX]: "ChunkIndex",
  [Opcode.ATTACHMENT]: "Attachment",
  [Opcode.ATTACHMENT_INDEX]: "AttachmentIndex",
  [Opcode.STATISTICS]: "Statistics",
  [Opcode.METADATA]: "Metadata",
  [Opcode.METADATA_INDEX]: "MetadataIndex",
  [Opcode.SUMMARY_OFFSET]: "SummaryOffset",
  [Opcode.DATA_END]: "DataEnd",
};

export function opcodeName(opcode: number): string {
  return OPCODE_NAMES[opcode] ?? `unknown opcode 0x${opcode.toString(16).padStart(2, "0")}`;
}

/** Bounds-checked little-endian reader over one record body. */
class Body {
  #at = 0;
  readonly #view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get offset(): number {
    return this.#at;
  }
  get remaining(): number {
    return this.bytes.byteLength - this.#at;
  }
  #need(n: number): number {
    if (n > this.remaining) throw new Error(`record body too short (${n} bytes needed at body offset ${this.#at}, ${this.remaining} left)`);
    const at = this.#at;
    this.#at += n;
    return at;
  }
  u8(): number {
    return this.#view.getUint8(this.#need(1));
  }
  u16(): number {
    return this.#view.getUint16(this.#need(2), true);
  }
  u32(): number {
    return this.#view.getUint32(this.#need(4), true);
  }
  u64(): bigint {
    return this.#view.getBigUint64(this.#need(8), true);
  }
  bytesOf(n: number): Uint8Array {
    const at = this.#need(n);
    return this.bytes.subarray(at, at + n);
  }
  string(): string {
    return new TextDecoder("utf-8", { fatal: true }).decode(this.bytesOf(this.u32()));
  }
  stringMap(): Map<string, string> {
    const end = this.u32() + this.#at;
    if (end > this.bytes.byteLength) throw new Error("string map runs past the record");
    const map = new Map<string, string>();
    while (this.#at < end) map.set(this.string(), this.string());
    return map;
  }
}

function parseSchema(body: Body): ScannedSchema {
  const id = body.u16();
  const name = body.string();
  const encoding = body.string();
  const data = body.bytesOf(body.u32());
  return { id, name, encoding, data };
}

function parseChannel(body: Body): ScannedChannel {
  return { id: body.u16(), schemaId: body.u16(), topic: body.string(), messageEncoding: body.string(), metadata: body.stringMap() };
}

function parseMessage(body: Body): ScannedMessage {
  const channelId = body.u16();
  const sequence = body.u32();
  const logTime = body.u64();
  const publishTime = body.u64();
  return { channelId, sequence, logTime, publishTime, data: body.bytesOf(body.remaining) };
}

/** Inner records of a decompressed chunk: schemas, channels and messages, or an error. */
function parseChunkRecords(records: Uint8Array): Array<{ opcode: number; body: Body }> {
  const out: Array<{ opcode: number; body: Body }> = [];
  const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
  let at = 0;
  while (at < records.byteLength) {
    if (records.byteLength - at < 9) throw new Error(`chunk ends inside a record header at chunk offset ${at}`);
    const opcode = view.getUint8(at);
    const length = view.getBigUint64(at + 1, true);
    if (length > BigInt(records.byteLength - at - 9)) throw new Error(`${opcodeName(opcode)} record at chunk offset ${at} runs past the chunk`);
    if (opcode !== Opcode.SCHEMA && opcode !== Opcode.CHANNEL && opcode !== Opcode.MESSAGE)
      throw new Error(`unexpected ${opcodeName(opcode)} record inside a chunk at chunk offset ${at}`);
    out.push({ opcode, body: new Body(records.subarray(at + 9, at + 9 + Number(length))) });
    at += 9 + Number(length);
  }
  return out;
}

export type ChunkContent = { kind: "schema"; value: ScannedSchema } | { kind: "channel"; value: ScannedChannel } | { kind: "message"; value: ScannedMessage };

function parseChunk(body: Body, offset: number, length: number): { chunk: ScannedChunk; inner: ChunkContent[] } {
  const messageStartTime = body.u64();
  const messageEndTime = body.u64();
  const uncompressedSize = Number(body.u64());
  const uncompressedCrc = body.u32();
  const compression = body.string();
  const compressed = body.bytesOf(Number(body.u64()));
  const chunk: ScannedChunk = { offset, length, compression, compressedSize: compressed.byteLength, uncompressedSize, messageStartTime, messageEndTime };
  const records = decompressChunk(compression, compressed, uncompressedSize);
  // Native CRC (zlib.crc32, the same CRC-32 MCAP specifies): @mcap/core's JS CRC was a tenth of a conversion.
  if (uncompressedCrc !== 0 && crc32(records) !== uncompressedCrc) throw new Error("chunk CRC mismatch (data corrupt)");
  // Parse everything before delivering anything: a damaged chunk contributes nothing.
  const inner = parseChunkRecords(records).map(({ opcode, body: innerBody }): ChunkContent =>
    opcode === Opcode.SCHEMA ? { kind: "schema", value: parseSchema(innerBody) } : opcode === Opcode.CHANNEL ? { kind: "channel", value: parseChannel(innerBody) } : { kind: "message", value: parseMessage(innerBody) },
  );
  return { chunk, inner };
}

/**
 * One whole Chunk record (opcode and length included, as a chunk index addresses it), checked
 * (CRC, sizes, inner records) and parsed. Message data are views into the decompressed chunk
 * (into `record` itself when uncompressed): nothing is copied per message. Throws on damage.
 */
export function readChunkRecord(record: Uint8Array, offset = 0): { chunk: ScannedChunk; inner: ChunkContent[] } {
  if (record.byteLength < 9 || record[0] !== Opcode.CHUNK) throw new Error(`not a Chunk record (opcode ${record.byteLength > 0 ? opcodeName(record[0]!) : "missing"})`);
  const length = new DataView(record.buffer, record.byteOffset, 9).getBigUint64(1, true);
  if (length !== BigInt(record.byteLength - 9)) throw new Error(`Chunk record declares ${length} bytes, ${record.byteLength - 9} given`);
  return parseChunk(new Body(record.subarray(9)), offset, record.byteLength);
}

/** Scans `path`'s data section, delivering every readable record to `handlers`. */
export async function scanMcap(path: string, handlers: ScanHandlers): Promise<ScanResult> {
  const file = await open(path, "r").catch((error: NodeJS.ErrnoException) => {
    throw new McapFileError(path, null, `cannot open (${error.code ?? error.message})`);
  });
  try {
    const size = (await file.stat()).size;
    const read = async (offset: number, length: number): Promise<Uint8Array> => {
      const buffer = Buffer.allocUnsafe(length);
      const { bytesRead } = await file.read(buffer, 0, length, offset);
      return buffer.subarray(0, bytesRead);
    };
    const magic = await read(0, MCAP_MAGIC.length);
    if (magic.byteLength < MCAP_MAGIC.length || !magic.every((b, i) => b === MCAP_MAGIC[i]))
      throw new McapFileError(path, 0, size < MCAP_MAGIC.length ? `too short to be an MCAP file (${size} bytes)` : "not an MCAP file (bad magic)");

    let offset = MCAP_MAGIC.length;
    let chunks = 0;
    let damagedRecords = 0;
    const stop = (reason: string, clean = false): ScanResult => ({ bytes: size, stop: { offset, reason, clean }, chunks, damagedRecords });
    for (;;) {
      if (offset === size) return stop("file ends after a complete record (no DataEnd: not finalised)");
      if (size - offset < 9) return stop(`file ends inside a record header (${size - offset} of 9 bytes)`);
      const head = await read(offset, 9);
      const opcode = head[0]!;
      const length = new DataView(head.buffer, head.byteOffset, 9).getBigUint64(1, true);
      if (opcode < Opcode.MIN || opcode > Opcode.MAX) return stop(`corrupt record header: ${opcodeName(opcode)}`);
      if (length > BigInt(size - offset - 9))
        return stop(`${opcodeName(opcode)} record declares ${length} bytes but only ${size - offset - 9} remain (file cut short or length corrupt)`);
      const recordOffset = offset;
      const body = new Body(await read(offset + 9, Number(length)));
      offset += 9 + Number(length);
      try {
        switch (opcode) {
          case Opcode.HEADER:
            handlers.header?.(body.string(), body.string());
            break;
          case Opcode.SCHEMA:
            handlers.schema?.(parseSchema(body));
            break;
          case Opcode.CHANNEL:
            handlers.channel?.(parseChannel(body));
            break;
          case Opcode.MESSAGE:
            handlers.message?.(parseMessage(body), null);
            break;
          case Opcode.METADATA:
            handlers.metadata?.(body.string(), body.stringMap());
            break;
          case Opcode.ATTACHMENT: {
            const logTime = body.u64();
            const createTime = body.u64();
            const name = body.string();
            const mediaType = body.string();
            const data = body.bytesOf(Number(body.u64()));
            const crcEnd = body.offset;
            const crc = body.u32();
            if (crc !== 0 && crc !== crc32(body.bytes.subarray(0, crcEnd))) throw new Error(`attachment '${name}' CRC mismatch`);
            handlers.attachment?.({ name, mediaType, logTime, createTime, data });
            break;
          }
          case Opcode.CHUNK: {
            const { chunk, inner } = parseChunk(body, recordOffset, 9 + Number(length));
            let messages = 0;
            for (const record of inner) {
              if (record.kind === "schema") handlers.schema?.(record.value);
              else if (record.kind === "channel") handlers.channel?.(record.value);
              else {
                messages++;
                handlers.message?.(record.value, chunk);
              }
            }
            chunks++;
            await handlers.chunk?.(chunk, messages);
            break;
          }
          case Opcode.DATA_END:
            return stop("DataEnd: the data section is complete", true);
          case Opcode.FOOTER:
            return stop("Footer reached without DataEnd", true);
          default:
            // Indexes, statistics, summary offsets: derived data, rebuilt by whoever needs them.
            break;
        }
      } catch (error) {
        damagedRecords++;
        handlers.damaged?.(recordOffset, `${opcodeName(opcode)} record: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  } finally {
    await file.close();
  }
}
