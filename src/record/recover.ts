/**
 * Rebuilds a valid, indexed MCAP from a damaged one (killed recorder, truncated copy,
 * corrupt bytes): every message of every intact chunk, plus messages outside chunks, schemas,
 * channels, metadata and attachments, rewritten with fresh indexes and summary. What could not
 * be kept is reported: damaged chunks by offset, and where the scan had to stop.
 */
import { rename } from "node:fs/promises";
import { chunkCompressor } from "./compression.js";
import type { Compression } from "./config.js";
import { McapFileWriter } from "./mcap-writer.js";
import { McapFileError, scanMcap, type ScannedChannel, type ScannedSchema } from "./scan.js";
import { FileSink } from "./sink.js";
import { softwareVersion } from "./schemas.js";

export interface RecoverOptions {
  /** Output compression; default: that of the input's first chunk (zstd if none). */
  compression?: Compression;
  /** Bound of the output chunks (uncompressed bytes). */
  chunkSize?: number;
}

export interface RecoverReport {
  input: string;
  output: string;
  inputBytes: number;
  /** Whether the input had a complete data section (DataEnd) — it was finalised. */
  inputComplete: boolean;
  /** Where and why reading stopped. */
  stoppedAt: { offset: number; reason: string };
  /** Bytes after the stop point that could not be used. */
  bytesIgnored: number;
  chunksRecovered: number;
  messagesRecovered: number;
  /** Messages that were outside chunks (e.g. written by an unchunked writer). */
  unchunkedMessages: number;
  /** Chunks or records skipped because they were damaged. */
  damaged: Array<{ offset: number; what: string }>;
  /** Messages whose channel was never defined (cannot be written). */
  orphanMessages: number;
  channels: number;
  metadata: number;
  attachments: number;
  /** Log-time span of what was recovered (ns), null if nothing. */
  logTimeRange: { start: bigint; end: bigint } | null;
}

/** Rewrites `input` into `output` (written to a temporary name first, then renamed). */
export async function recoverMcap(input: string, output: string, options: RecoverOptions = {}): Promise<RecoverReport> {
  if (input === output) throw new McapFileError(input, null, "recover needs an output path different from the input");
  const temporary = `${output}.partial`;
  let writer: McapFileWriter | undefined;
  const pending: Array<() => Promise<void>> = [];
  const schemas = new Map<number, { schema: ScannedSchema; outId: number | null }>();
  const channels = new Map<number, { channel: ScannedChannel; outId: number | null }>();
  const report: RecoverReport = {
    input,
    output,
    inputBytes: 0,
    inputComplete: false,
    stoppedAt: { offset: 0, reason: "" },
    bytesIgnored: 0,
    chunksRecovered: 0,
    messagesRecovered: 0,
    unchunkedMessages: 0,
    damaged: [],
    orphanMessages: 0,
    channels: 0,
    metadata: 0,
    attachments: 0,
    logTimeRange: null,
  };
  let profile = "";
  const chunkSize = options.chunkSize ?? 4 * 1024 * 1024;

  // The writer is created lazily: its compression follows the input's first chunk.
  const ensureWriter = async (compression: string | undefined): Promise<McapFileWriter> => {
    if (writer !== undefined) return writer;
    const kind: Compression = options.compression ?? (compression === "lz4" ? "lz4" : compression === "" ? "none" : "zstd");
    writer = new McapFileWriter({
      sink: await FileSink.create(temporary),
      compressor: chunkCompressor(kind),
      profile,
      library: `syncbag ${softwareVersion()} (recovered)`,
    });
    await writer.start();
    return writer;
  };

  const outChannel = (w: McapFileWriter, inId: number): number | null => {
    const entry = channels.get(inId);
    if (entry === undefined) return null;
    if (entry.outId === null) {
      let schemaId = 0;
      const schemaEntry = entry.channel.schemaId !== 0 ? schemas.get(entry.channel.schemaId) : undefined;
      if (schemaEntry !== undefined) {
        schemaEntry.outId ??= w.addSchema(schemaEntry.schema);
        schemaId = schemaEntry.outId;
      }
      const { topic, messageEncoding, metadata } = entry.channel;
      entry.outId = w.addChannel({ topic, schemaId, messageEncoding, metadata });
      report.channels++;
    }
    return entry.outId;
  };

  const result = await scanMcap(input, {
    header: (p) => {
      profile = p;
    },
    schema: (schema) => {
      if (!schemas.has(schema.id)) schemas.set(schema.id, { schema: { ...schema, data: schema.data.slice() }, outId: null });
    },
    channel: (channel) => {
      if (!channels.has(channel.id)) channels.set(channel.id, { channel, outId: null });
    },
    message: (message, chunk) => {
      // Messages are added synchronously; the writer exists once the first chunk or record was seen.
      const w = writer;
      if (w === undefined) {
        pending.push(async () => {
          const created = await ensureWriter(chunk?.compression);
          addMessage(created, message, chunk === null);
        });
        return;
      }
      addMessage(w, message, chunk === null);
    },
    metadata: (name, metadata) => {
      report.metadata++;
      pending.push(async () => (await ensureWriter(undefined)).addMetadata(name, metadata));
    },
    attachment: (attachment) => {
      report.attachments++;
      const copy = { ...attachment, data: attachment.data.slice() };
      pending.push(async () => (await ensureWriter(undefined)).addAttachment(copy));
    },
    chunk: async (chunk) => {
      const w = await ensureWriter(chunk.compression);
      for (const task of pending.splice(0)) await task();
      report.chunksRecovered++;
      if (w.openChunkBytes >= chunkSize) await w.flushChunk();
    },
    damaged: (offset, what) => {
      report.damaged.push({ offset, what });
    },
  });

  function addMessage(w: McapFileWriter, message: { channelId: number; sequence: number; logTime: bigint; publishTime: bigint; data: Uint8Array }, unchunked: boolean): void {
    const channelId = outChannel(w, message.channelId);
    if (channelId === null) {
      report.orphanMessages++;
      return;
    }
    w.addMessage(channelId, message.sequence, message.logTime, message.publishTime, message.data);
    report.messagesRecovered++;
    if (unchunked) report.unchunkedMessages++;
    const range = report.logTimeRange;
    if (range === null) report.logTimeRange = { start: message.logTime, end: message.logTime };
    else {
      if (message.logTime < range.start) range.start = message.logTime;
      if (message.logTime > range.end) range.end = message.logTime;
    }
  }

  const w = await ensureWriter(undefined);
  for (const task of pending.splice(0)) await task();
  await w.end();
  await rename(temporary, output);
  report.inputBytes = result.bytes;
  report.inputComplete = result.stop.clean;
  report.stoppedAt = { offset: result.stop.offset, reason: result.stop.reason };
  report.bytesIgnored = result.stop.clean ? 0 : result.bytes - result.stop.offset;
  return report;
}

/** A few lines for people: what was kept, what was lost, and where. */
export function formatRecoverReport(report: RecoverReport): string {
  const lines = [
    `recovered ${report.messagesRecovered} messages in ${report.chunksRecovered} chunks (${report.channels} channels, ${report.metadata} metadata, ${report.attachments} attachments) → ${report.output}`,
  ];
  if (report.logTimeRange !== null) {
    const seconds = Number(report.logTimeRange.end - report.logTimeRange.start) / 1e9;
    lines.push(`log time span ${seconds.toFixed(3)} s`);
  }
  if (report.unchunkedMessages > 0) lines.push(`${report.unchunkedMessages} of them were outside chunks`);
  lines.push(
    report.inputComplete
      ? "input data section was complete"
      : `input stopped at byte ${report.stoppedAt.offset} of ${report.inputBytes}: ${report.stoppedAt.reason}; ${report.bytesIgnored} bytes after it were lost`,
  );
  for (const damage of report.damaged) lines.push(`lost: ${damage.what} (at byte ${damage.offset})`);
  if (report.orphanMessages > 0) lines.push(`lost: ${report.orphanMessages} messages on channels never defined in the file`);
  return lines.join("\n");
}
