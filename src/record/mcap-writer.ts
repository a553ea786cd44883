/**
 * One MCAP file, written as a chunk loop of our own: chunk contents in a ChunkAssembler,
 * every other record through @mcap/core's McapRecordBuilder. Unlike McapWriter it can close a
 * chunk on demand (time-bounded durability), computes the chunk CRC natively (zlib.crc32),
 * never copies a large payload for an uncompressed chunk and copies it once for a compressed
 * one, and writes schema and channel records outside
 * chunks, just before the first chunk that uses them — so a damaged chunk never takes the
 * definitions of later chunks with it (recovery relies on that).
 *
 * Usage contract: `start()` once, then any number of add… and flushChunk calls, then `end()`; calls
 * that return a promise must not overlap (the recorder's single writer loop guarantees it).
 * On a failed write the file is cut back to the last complete record, so `end()` can still
 * try to finalise it.
 */
import { crc32 } from "./crc.js";
import { McapRecordBuilder, Opcode } from "@mcap/core";
import type { ChunkIndex, MetadataIndex, AttachmentIndex, SummaryOffset } from "@mcap/core";
import { ChunkAssembler } from "./chunk-assembler.js";
import type { ChunkCompressor } from "./compression.js";
import type { RecordSink } from "./sink.js";

export const MCAP_MAGIC = new Uint8Array([0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a]);

export interface McapFileWriterOptions {
  sink: RecordSink;
  /** null: uncompressed chunks. */
  compressor: ChunkCompressor | null;
  /** Header profile, "ros2" for ROS 2 recordings. */
  profile: string;
  /** Header library string, e.g. "syncbag 0.1.0". */
  library: string;
}

export interface SchemaInput {
  name: string;
  encoding: string;
  data: Uint8Array;
}

export interface ChannelInput {
  topic: string;
  schemaId: number;
  messageEncoding: string;
  metadata: Map<string, string>;
}

interface ChannelEntry extends ChannelInput {
  id: number;
}

interface SchemaEntry extends SchemaInput {
  id: number;
}

/** A closed chunk, ready to be written. */
interface ClosedChunk {
  messageStartTime: bigint;
  messageEndTime: bigint;
  uncompressedSize: bigint;
  uncompressedCrc: number;
  compression: string;
  /** The (compressed) records, in pieces written back to back. */
  records: Uint8Array[];
  recordsLength: number;
  /** Per channel: [logTime, offset in the uncompressed records] of each message. */
  messageIndexes: Map<number, Array<[bigint, bigint]>>;
}

export interface FileStatistics {
  messageCount: number;
  chunkCount: number;
  messageStartTime: bigint;
  messageEndTime: bigint;
  channelMessageCounts: Map<number, number>;
}

const textEncoder = new TextEncoder();

export class McapFileWriter {
  readonly #sink: RecordSink;
  readonly #compressor: ChunkCompressor | null;
  readonly #profile: string;
  readonly #library: string;
  readonly #records = new McapRecordBuilder();
  readonly #chunk = new ChunkAssembler();
  readonly #schemas: SchemaEntry[] = [];
  readonly #channels: ChannelEntry[] = [];
  /** Schema/channel records not yet written (they go before the next chunk). */
  #pendingDefinitions: Array<SchemaEntry | ChannelEntry> = [];
  readonly #chunkIndexes: ChunkIndex[] = [];
  readonly #metadataIndexes: MetadataIndex[] = [];
  readonly #attachmentIndexes: AttachmentIndex[] = [];
  #ended = false;
  /** Reused chunk copy for a borrowing compressor (grows to the largest chunk). */
  #scratch = new Uint8Array(0);
  readonly statistics: FileStatistics = {
    messageCount: 0,
    chunkCount: 0,
    messageStartTime: 0n,
    messageEndTime: 0n,
    channelMessageCounts: new Map(),
  };

  constructor(options: McapFileWriterOptions) {
    this.#sink = options.sink;
    this.#compressor = options.compressor;
    this.#profile = options.profile;
    this.#library = options.library;
  }

  /** Bytes in the file so far (excluding the open chunk). */
  get position(): number {
    return this.#sink.position();
  }

  /** Uncompressed bytes in the open chunk. */
  get openChunkBytes(): number {
    return this.#chunk.byteLength;
  }

  get openChunkMessages(): number {
    return this.#chunk.messageCount;
  }

  async start(): Promise<void> {
    this.#records.writeMagic();
    this.#records.writeHeader({ profile: this.#profile, library: this.#library });
    await this.#writeData([this.#takeRecords()]);
  }

  addSchema(schema: SchemaInput): number {
    const entry = { ...schema, id: this.#schemas.length + 1 };
    this.#schemas.push(entry);
    this.#pendingDefinitions.push(entry);
    return entry.id;
  }

  addChannel(channel: ChannelInput): number {
    const entry = { ...channel, id: this.#channels.length };
    this.#channels.push(entry);
    this.#pendingDefinitions.push(entry);
    return entry.id;
  }

  /** Adds a message to the open chunk (synchronous, no I/O). */
  addMessage(channelId: number, sequence: number, logTime: bigint, publishTime: bigint, data: Uint8Array): void {
    this.#chunk.addMessage(channelId, sequence, logTime, publishTime, data);
    this.#countMessage(channelId, logTime);
  }

  #scratchOf(size: number): Uint8Array {
    if (this.#scratch.byteLength < size) this.#scratch = new Uint8Array(Buffer.allocUnsafeSlow(size).buffer, 0, size);
    return this.#scratch.subarray(0, size);
  }

  /** Closes the open chunk (if it holds messages) and writes it with its message indexes. */
  async flushChunk(): Promise<void> {
    if (this.#chunk.messageCount === 0) {
      await this.#writePendingDefinitions();
      return;
    }
    try {
      const pieces = this.#chunk.pieces();
      const size = this.#chunk.byteLength;
      let compression = "";
      let records = pieces;
      let recordsLength = size;
      let crc: number;
      if (this.#compressor === null) {
        crc = 0;
        for (const piece of pieces) crc = crc32(piece, crc);
      } else {
        // One copy into a buffer the compressor owns (pieces reference callers' payloads and a
        // reused block), or into our scratch when it only borrows: a fresh multi-MB buffer per
        // chunk costs zero-filling and page faults on every close.
        const owned = this.#compressor.borrows === true ? this.#scratchOf(size) : new Uint8Array(size);
        let at = 0;
        for (const piece of pieces) {
          owned.set(piece, at);
          at += piece.byteLength;
        }
        // The CRC is taken before compressing: a compressor may transfer `owned` to its thread.
        const crcBefore = this.#compressor.computesCrc === true ? undefined : crc32(owned);
        const compressed = await this.#compressor(owned);
        crc = compressed.uncompressedCrc ?? crcBefore!;
        compression = compressed.compression;
        records = [compressed.data];
        recordsLength = compressed.data.byteLength;
      }
      await this.#writeChunk({
        messageStartTime: this.#chunk.startTime,
        messageEndTime: this.#chunk.endTime,
        uncompressedSize: BigInt(size),
        uncompressedCrc: crc,
        compression,
        records,
        recordsLength,
        messageIndexes: this.#chunk.messageIndexes,
      });
    } finally {
      this.#chunk.reset();
    }
  }

  async addMetadata(name: string, metadata: Map<string, string>): Promise<void> {
    await this.#writePendingDefinitions();
    const offset = BigInt(this.position);
    const length = this.#records.writeMetadata({ name, metadata });
    await this.#writeData([this.#takeRecords()]);
    this.#metadataIndexes.push({ name, offset, length });
  }

  async addAttachment(attachment: { name: string; mediaType: string; data: Uint8Array; logTime: bigint; createTime: bigint }): Promise<void> {
    await this.#writePendingDefinitions();
    const offset = BigInt(this.position);
    const length = this.#records.writeAttachment(attachment);
    await this.#writeData([this.#takeRecords()]);
    this.#attachmentIndexes.push({
      offset,
      length,
      logTime: attachment.logTime,
      createTime: attachment.createTime,
      dataSize: BigInt(attachment.data.byteLength),
      name: attachment.name,
      mediaType: attachment.mediaType,
    });
  }

  async sync(): Promise<void> {
    await this.#sink.sync();
  }

  /**
   * Closes the open chunk, writes DataEnd, the summary (schemas, channels, statistics,
   * metadata/attachment/chunk indexes), summary offsets and footer, then syncs and closes.
   * With `discardOpenChunk` the messages still in memory are dropped (finalising after a failure).
   */
  async end(options: { discardOpenChunk?: boolean } = {}): Promise<void> {
    if (this.#ended) return;
    if (options.discardOpenChunk === true) this.#chunk.reset();
    else await this.flushChunk();
    await this.#writePendingDefinitions();
    this.#ended = true;
    // 0 = not computed (spec): every chunk carries its own CRC, a second pass over all bytes buys nothing.
    this.#records.writeDataEnd({ dataSectionCrc: 0 });
    await this.#writeRaw([this.#takeRecords()]);

    const summaryStart = BigInt(this.position);
    let cursor = summaryStart;
    const offsets: SummaryOffset[] = [];
    const group = (opcode: Opcode, write: () => void): void => {
      const before = this.#records.length;
      write();
      const length = BigInt(this.#records.length - before);
      if (length > 0n) offsets.push({ groupOpcode: opcode, groupStart: cursor, groupLength: length });
      cursor += length;
    };
    group(Opcode.SCHEMA, () => this.#schemas.forEach((s) => this.#records.writeSchema(s)));
    group(Opcode.CHANNEL, () => this.#channels.forEach((c) => this.#records.writeChannel(c)));
    group(Opcode.STATISTICS, () =>
      this.#records.writeStatistics({
        messageCount: BigInt(this.statistics.messageCount),
        schemaCount: this.#schemas.length,
        channelCount: this.#channels.length,
        attachmentCount: this.#attachmentIndexes.length,
        metadataCount: this.#metadataIndexes.length,
        chunkCount: this.statistics.chunkCount,
        messageStartTime: this.statistics.messageStartTime,
        messageEndTime: this.statistics.messageEndTime,
        channelMessageCounts: new Map([...this.statistics.channelMessageCounts].map(([id, n]) => [id, BigInt(n)])),
      }),
    );
    group(Opcode.METADATA_INDEX, () => this.#metadataIndexes.forEach((m) => this.#records.writeMetadataIndex(m)));
    group(Opcode.ATTACHMENT_INDEX, () => this.#attachmentIndexes.forEach((a) => this.#records.writeAttachmentIndex(a)));
    group(Opcode.CHUNK_INDEX, () => this.#chunkIndexes.forEach((c) => this.#records.writeChunkIndex(c)));
    const summaryOffsetStart = cursor;
    for (const offset of offsets) this.#records.writeSummaryOffset(offset);
    const summary = this.#takeRecords();

    // The footer's CRC covers the summary, the summary offsets and the footer up to the CRC field.
    const footerHead = new DataView(new ArrayBuffer(17 + 8));
    footerHead.setUint8(0, Opcode.FOOTER);
    footerHead.setBigUint64(1, 20n, true);
    footerHead.setBigUint64(9, summaryStart, true);
    footerHead.setBigUint64(17, summaryOffsetStart, true);
    const summaryCrc = crc32(new Uint8Array(footerHead.buffer), crc32(summary));
    this.#records.writeFooter({ summaryStart, summaryOffsetStart, summaryCrc });
    this.#records.writeMagic();
    await this.#writeRaw([summary, this.#takeRecords()]);
    await this.#sink.sync();
    await this.#sink.close();
  }

  #countMessage(channelId: number, logTime: bigint): void {
    const stats = this.statistics;
    if (stats.messageCount === 0 || logTime < stats.messageStartTime) stats.messageStartTime = logTime;
    if (stats.messageCount === 0 || logTime > stats.messageEndTime) stats.messageEndTime = logTime;
    stats.messageCount++;
    stats.channelMessageCounts.set(channelId, (stats.channelMessageCounts.get(channelId) ?? 0) + 1);
  }

  async #writeChunk(chunk: ClosedChunk): Promise<void> {
    await this.#writePendingDefinitions();
    const chunkStart = this.position;
    const header = chunkRecordHeader(chunk);
    // Message indexes follow the chunk; their offsets are absolute, so compute them up front.
    const indexStart = BigInt(chunkStart + header.byteLength + chunk.recordsLength);
    const messageIndexOffsets = new Map<number, bigint>();
    for (const [channelId, records] of chunk.messageIndexes) {
      messageIndexOffsets.set(channelId, indexStart + BigInt(this.#records.length));
      this.#records.writeMessageIndex({ channelId, records });
    }
    const indexes = this.#takeRecords();
    await this.#writeData([header, ...chunk.records, indexes]);
    this.statistics.chunkCount++;
    this.#chunkIndexes.push({
      messageStartTime: chunk.messageStartTime,
      messageEndTime: chunk.messageEndTime,
      chunkStartOffset: BigInt(chunkStart),
      chunkLength: BigInt(header.byteLength + chunk.recordsLength),
      messageIndexOffsets,
      messageIndexLength: BigInt(indexes.byteLength),
      compression: chunk.compression,
      compressedSize: BigInt(chunk.recordsLength),
      uncompressedSize: chunk.uncompressedSize,
    });
  }

  async #writePendingDefinitions(): Promise<void> {
    if (this.#pendingDefinitions.length === 0) return;
    for (const entry of this.#pendingDefinitions) {
      if ("topic" in entry) this.#records.writeChannel(entry);
      else this.#records.writeSchema(entry);
    }
    await this.#writeData([this.#takeRecords()]);
    this.#pendingDefinitions = [];
  }

  async #writeData(buffers: Uint8Array[]): Promise<void> {
    await this.#writeRaw(buffers);
  }

  /** Appends, and on failure cuts the file back so it ends on a record boundary. */
  async #writeRaw(buffers: Uint8Array[]): Promise<void> {
    const before = this.position;
    try {
      await this.#sink.write(buffers);
    } catch (error) {
      await this.#sink.truncate(before).catch(() => undefined);
      throw error;
    }
  }

  #takeRecords(): Uint8Array {
    const bytes = this.#records.buffer; // a copy
    this.#records.reset();
    return bytes;
  }
}

/** The fixed part of a Chunk record, up to and including the records length. */
function chunkRecordHeader(chunk: ClosedChunk): Uint8Array {
  const compression = textEncoder.encode(chunk.compression);
  const size = 1 + 8 + 8 + 8 + 8 + 4 + 4 + compression.byteLength + 8;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  const contentLength = size - 9 + chunk.recordsLength;
  let at = 0;
  view.setUint8(at, Opcode.CHUNK);
  view.setBigUint64((at += 1), BigInt(contentLength), true);
  view.setBigUint64((at += 8), chunk.messageStartTime, true);
  view.setBigUint64((at += 8), chunk.messageEndTime, true);
  view.setBigUint64((at += 8), chunk.uncompressedSize, true);
  view.setUint32((at += 8), chunk.uncompressedCrc, true);
  view.setUint32((at += 4), compression.byteLength, true);
  bytes.set(compression, (at += 4));
  view.setBigUint64(at + compression.byteLength, BigInt(chunk.recordsLength), true);
  return bytes;
}
