/**
 * What is in an MCAP file: topics, types, counts, rates, duration, compression, chunk sizes,
 * metadata, and the alignment summary (metadata records plus the last state of every sensor
 * clock from the SensorClockState channel). Reads the summary when there is one; a file without
 * a usable summary (crashed recorder, truncated copy) is scanned record by record instead, with a
 * warning saying why.
 */
import { open } from "node:fs/promises";
import { McapIndexedReader, type TypedMcapRecords } from "@mcap/core";
import { normalizeTypeName } from "../messages/catalogue.js";
import { defaultCodec } from "../messages/codec.js";
import { decompressChunk } from "./compression.js";
import { FileReadable } from "./file-readable.js";
import { McapFileError, scanMcap } from "./scan.js";
import { formatUnconverged, UnconvergedCounter, unconvergedIntervals, type ClockStateView, type UnconvergedSpan } from "../align/unconverged.js";

export const SENSOR_CLOCK_STATE_TYPE = "syncbag/SensorClockState";

export interface TopicSummary {
  topic: string;
  schemaName: string;
  schemaEncoding: string;
  messageEncoding: string;
  messages: number;
  /** Messages per second over the topic's own first..last log time (null below 2 messages). */
  rateHz: number | null;
}

export interface ClockSummary {
  sensor: string;
  topic: string;
  mode: string;
  offsetS: number;
  driftPpm: number;
  latencyS: number;
  latencySource: string;
  confidence: number;
  samplesUsed: number;
  stepsDetected: number;
  /** Common-clock time of this last estimate (ns). */
  stamp: bigint;
}

export interface InspectReport {
  path: string;
  bytes: number;
  profile: string;
  library: string;
  /** "summary" when read through the index, "scan" when the file had to be read record by record. */
  readVia: "summary" | "scan";
  warnings: string[];
  messages: number;
  startTime: bigint | null;
  endTime: bigint | null;
  durationS: number;
  topics: TopicSummary[];
  compression: Record<string, { chunks: number; compressedBytes: number; uncompressedBytes: number }>;
  chunks: { count: number; minBytes: number; maxBytes: number; meanBytes: number } | null;
  metadata: Array<{ name: string; entries: Record<string, string> }>;
  attachments: Array<{ name: string; mediaType: string; bytes: number }>;
  alignment: {
    /** Metadata records about alignment (name contains "align" or "clock"). */
    metadata: Array<{ name: string; entries: Record<string, string> }>;
    /** Last SensorClockState per sensor. */
    clocks: ClockSummary[];
    clockStateErrors: number;
    /**
     * How the messages' times were made: "hindsight" (converted in two passes: no message was
     * stamped by an unconverged model), "online" (live, or converted with --online-times), null
     * (not said: not written by syncbag, or by an older one).
     */
    clockModels?: "hindsight" | "online" | null;
    /** Per sensor: messages stamped while its online model was not converged, by the SensorClockState channel (resolution one clock-state period). */
    unconverged?: UnconvergedSpan[];
  };
}

interface SensorClockState {
  header: { stamp: { sec: number; nanosec: number } };
  sensor: string;
  topic: string;
  mode: string;
  offset: number;
  drift: number;
  latency: number;
  latency_source: string;
  confidence: number;
  samples_used: number;
  steps_detected: number;
}

const decompressHandlers = {
  zstd: (buffer: Uint8Array, size: bigint) => decompressChunk("zstd", buffer, Number(size)),
  lz4: (buffer: Uint8Array, size: bigint) => decompressChunk("lz4", buffer, Number(size)),
};

/** Inspects one MCAP file. Throws McapFileError (what and where) if it is not readable at all. */
export async function inspectMcap(path: string): Promise<InspectReport> {
  const handle = await open(path, "r").catch((error: NodeJS.ErrnoException) => {
    throw new McapFileError(path, null, `cannot open (${error.code ?? error.message})`);
  });
  let indexed: McapIndexedReader | undefined;
  let indexError = "";
  let bytes = 0;
  try {
    bytes = (await handle.stat()).size;
    try {
      indexed = await McapIndexedReader.Initialize({ readable: new FileReadable(handle, BigInt(bytes)), decompressHandlers });
      if (indexed.chunkIndexes.length === 0 && (indexed.statistics?.messageCount ?? 0n) > 0n) {
        indexError = "summary has no chunk index";
        indexed = undefined;
      }
    } catch (error) {
      indexError = error instanceof Error ? error.message.replace(/ \[library=.*\]$/, "") : String(error);
    }
    if (indexed !== undefined) {
      try {
        return await fromIndex(path, bytes, indexed);
      } catch (error) {
        // A damaged chunk met while reading through the index: the scan says which and where.
        indexError = `reading through the summary failed: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
  } finally {
    await handle.close();
  }
  const report = await fromScan(path);
  report.warnings.unshift(`no usable summary (${indexError}); scanned the records instead — run \`syncbag recover ${path}\` to rebuild the index`);
  return report;
}

function emptyReport(path: string, bytes: number, readVia: InspectReport["readVia"]): InspectReport {
  return {
    path,
    bytes,
    profile: "",
    library: "",
    readVia,
    warnings: [],
    messages: 0,
    startTime: null,
    endTime: null,
    durationS: 0,
    topics: [],
    compression: {},
    chunks: null,
    metadata: [],
    attachments: [],
    alignment: { metadata: [], clocks: [], clockStateErrors: 0, clockModels: null, unconverged: [] },
  };
}

/** `syncbag/SensorClockState` or `syncbag/msg/SensorClockState`. */
function isClockState(schemaName: string | undefined): boolean {
  return schemaName !== undefined && normalizeTypeName(schemaName) === SENSOR_CLOCK_STATE_TYPE;
}

class ClockCollector {
  readonly #last = new Map<string, ClockSummary>();
  /** Every state in file order (1 Hz per sensor: small), for the unconverged intervals. */
  readonly states: { logTimeNs: bigint; state: ClockStateView }[] = [];
  /** Fed by a scan (every message in file order); the index path counts through the index instead. */
  readonly counter = new UnconvergedCounter();
  errors = 0;
  add(data: Uint8Array, logTimeNs: bigint): void {
    try {
      const state = defaultCodec().decode<SensorClockState>(SENSOR_CLOCK_STATE_TYPE, data);
      this.states.push({ logTimeNs, state });
      this.counter.state(state);
      const stamp = BigInt(state.header.stamp.sec) * 1_000_000_000n + BigInt(state.header.stamp.nanosec);
      this.#last.set(state.sensor, {
        sensor: state.sensor,
        topic: state.topic,
        mode: state.mode,
        offsetS: state.offset,
        driftPpm: state.drift * 1e6,
        latencyS: state.latency,
        latencySource: state.latency_source,
        confidence: state.confidence,
        samplesUsed: state.samples_used,
        stepsDetected: state.steps_detected,
        stamp,
      });
    } catch {
      this.errors++;
    }
  }
  clocks(): ClockSummary[] {
    return [...this.#last.values()].sort((a, b) => a.sensor.localeCompare(b.sensor));
  }
}

/** The recording's own `minConfidence` (metadata syncbag.alignment config), else the default 0.5. */
function minConfidenceOf(report: InspectReport): number {
  const config = report.metadata.find((m) => m.name === "syncbag.alignment")?.entries.config;
  if (config === undefined) return 0.5;
  try {
    const value = (JSON.parse(config) as { minConfidence?: unknown }).minConfidence;
    return typeof value === "number" ? value : 0.5;
  } catch {
    return 0.5;
  }
}

function clockModelsOf(report: InspectReport): "hindsight" | "online" | null {
  const said = report.metadata.find((m) => m.name === "syncbag.conversion")?.entries.clock_models;
  if (said === "hindsight" || said === "online") return said;
  // A live recording by the node: its models are the online ones.
  return report.metadata.some((m) => m.name === "syncbag.alignment") ? "online" : null;
}

function finishAlignment(report: InspectReport, clocks: ClockCollector, unconverged?: UnconvergedSpan[]): void {
  report.alignment.clockModels = clockModelsOf(report);
  report.alignment.unconverged = unconverged ?? clocks.counter.result(minConfidenceOf(report));
  report.alignment.metadata = report.metadata.filter((m) => /align|clock/i.test(m.name));
  report.alignment.clocks = clocks.clocks();
  report.alignment.clockStateErrors = clocks.errors;
  if (clocks.errors > 0) report.warnings.push(`${clocks.errors} SensorClockState messages could not be decoded`);
  if (report.startTime !== null && report.endTime !== null) report.durationS = Number(report.endTime - report.startTime) / 1e9;
}

function rate(count: number, first: bigint | undefined, last: bigint | undefined): number | null {
  if (count < 2 || first === undefined || last === undefined || last <= first) return null;
  return (count - 1) / (Number(last - first) / 1e9);
}

async function fromIndex(path: string, bytes: number, reader: McapIndexedReader): Promise<InspectReport> {
  const report = emptyReport(path, bytes, "summary");
  report.profile = reader.header.profile;
  report.library = reader.header.library;
  const stats = reader.statistics;
  for (const chunk of reader.chunkIndexes) {
    const name = chunk.compression || "none";
    const entry = (report.compression[name] ??= { chunks: 0, compressedBytes: 0, uncompressedBytes: 0 });
    entry.chunks++;
    entry.compressedBytes += Number(chunk.compressedSize);
    entry.uncompressedBytes += Number(chunk.uncompressedSize);
  }
  const sizes = reader.chunkIndexes.map((c) => Number(c.uncompressedSize));
  if (sizes.length > 0)
    report.chunks = { count: sizes.length, minBytes: Math.min(...sizes), maxBytes: Math.max(...sizes), meanBytes: sizes.reduce((a, b) => a + b, 0) / sizes.length };
  if (stats !== undefined) {
    report.messages = Number(stats.messageCount);
    report.startTime = stats.messageCount > 0n ? stats.messageStartTime : null;
    report.endTime = stats.messageCount > 0n ? stats.messageEndTime : null;
  } else report.warnings.push("no Statistics record: counts come from a full read");

  // Per-topic first/last times need the message indexes; reading every message is avoided
  // except on clock-state channels, which are small.
  const clockChannels = [...reader.channelsById.values()].filter((c) => isClockState(reader.schemasById.get(c.schemaId)?.name));
  const firstLast = new Map<number, { first: bigint; last: bigint; count: number }>();
  const clocks = new ClockCollector();
  const needFull = stats === undefined;
  for await (const message of reader.readMessages(needFull ? {} : { topics: clockChannels.map((c) => c.topic) })) {
    if (clockChannels.some((c) => c.id === message.channelId)) clocks.add(message.data, message.logTime);
    if (needFull) {
      const entry = firstLast.get(message.channelId) ?? { first: message.logTime, last: message.logTime, count: 0 };
      entry.count++;
      entry.last = message.logTime;
      firstLast.set(message.channelId, entry);
    }
  }
  if (!needFull) {
    // Each topic's first and last message (one chunk read at each end) give its exact span.
    for (const channel of reader.channelsById.values()) {
      const ends: bigint[] = [];
      for (const reverse of [false, true]) {
        for await (const message of reader.readMessages({ topics: [channel.topic], reverse })) {
          ends.push(message.logTime);
          break;
        }
      }
      if (ends.length === 2) firstLast.set(channel.id, { first: ends[0]!, last: ends[1]!, count: 0 });
    }
  }
  let total = 0;
  for (const channel of reader.channelsById.values()) {
    const schema = reader.schemasById.get(channel.schemaId);
    const count = needFull ? (firstLast.get(channel.id)?.count ?? 0) : Number(stats!.channelMessageCounts.get(channel.id) ?? 0n);
    total += count;
    const span = firstLast.get(channel.id);
    report.topics.push({
      topic: channel.topic,
      schemaName: schema?.name ?? "",
      schemaEncoding: schema?.encoding ?? "",
      messageEncoding: channel.messageEncoding,
      messages: count,
      rateHz: rate(count, span?.first, span?.last),
    });
  }
  if (needFull) report.messages = total;
  report.topics.sort((a, b) => a.topic.localeCompare(b.topic));
  for (const index of reader.metadataIndexes) {
    for await (const metadata of reader.readMetadata({ name: index.name })) {
      report.metadata.push({ name: metadata.name, entries: Object.fromEntries(metadata.metadata) });
    }
  }
  // readMetadata by name returns every record with that name: keep each once.
  report.metadata = dedupe(report.metadata);
  for (const index of reader.attachmentIndexes) report.attachments.push({ name: index.name, mediaType: index.mediaType, bytes: Number(index.dataSize) });
  // Messages stamped before their model converged: counted through the index, only in the
  // intervals the clock states say were unconverged (the rest of the file is not read).
  const unconverged: UnconvergedSpan[] = [];
  for (const [topic, { sensor, intervals }] of unconvergedIntervals(clocks.states, minConfidenceOf(report))) {
    const span: UnconvergedSpan = { sensor, topic, messages: 0, firstNs: null, lastNs: null };
    for (const { fromNs, toNs } of intervals) {
      const range = { ...(fromNs === null ? {} : { startTime: fromNs }), ...(toNs === null ? {} : { endTime: toNs - 1n }) };
      if (fromNs === null && report.startTime !== null && toNs !== null && toNs <= report.startTime) continue;
      for await (const message of reader.readMessages({ topics: [topic], ...range })) {
        span.messages++;
        if (span.firstNs === null || message.logTime < span.firstNs) span.firstNs = message.logTime;
        if (span.lastNs === null || message.logTime > span.lastNs) span.lastNs = message.logTime;
      }
    }
    unconverged.push(span);
  }
  unconverged.sort((a, b) => a.sensor.localeCompare(b.sensor));
  finishAlignment(report, clocks, unconverged);
  return report;
}

function dedupe<T>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = JSON.stringify(item);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

async function fromScan(path: string): Promise<InspectReport> {
  const channels = new Map<number, TypedMcapRecords["Channel"]>();
  const schemas = new Map<number, TypedMcapRecords["Schema"]>();
  const perChannel = new Map<number, { first: bigint; last: bigint; count: number }>();
  const clocks = new ClockCollector();
  const report = emptyReport(path, 0, "scan");
  const sizes: number[] = [];
  const result = await scanMcap(path, {
    header: (profile, library) => {
      report.profile = profile;
      report.library = library;
    },
    schema: (schema) => schemas.set(schema.id, { type: "Schema", ...schema }),
    channel: (channel) => channels.set(channel.id, { type: "Channel", ...channel }),
    message: (message) => {
      const entry = perChannel.get(message.channelId) ?? { first: message.logTime, last: message.logTime, count: 0 };
      entry.count++;
      if (message.logTime < entry.first) entry.first = message.logTime;
      if (message.logTime > entry.last) entry.last = message.logTime;
      perChannel.set(message.channelId, entry);
      report.messages++;
      if (report.startTime === null || message.logTime < report.startTime) report.startTime = message.logTime;
      if (report.endTime === null || message.logTime > report.endTime) report.endTime = message.logTime;
      const channel = channels.get(message.channelId);
      const schema = schemas.get(channel?.schemaId ?? -1);
      if (isClockState(schema?.name)) clocks.add(message.data, message.logTime);
      else if (channel !== undefined) clocks.counter.message(channel.topic, message.logTime);
    },
    metadata: (name, metadata) => report.metadata.push({ name, entries: Object.fromEntries(metadata) }),
    attachment: (a) => report.attachments.push({ name: a.name, mediaType: a.mediaType, bytes: a.data.byteLength }),
    chunk: (chunk) => {
      const name = chunk.compression || "none";
      const entry = (report.compression[name] ??= { chunks: 0, compressedBytes: 0, uncompressedBytes: 0 });
      entry.chunks++;
      entry.compressedBytes += chunk.compressedSize;
      entry.uncompressedBytes += chunk.uncompressedSize;
      sizes.push(chunk.uncompressedSize);
    },
    damaged: (offset, what) => report.warnings.push(`damaged: ${what} (at byte ${offset}); skipped`),
  });
  report.bytes = result.bytes;
  if (!result.stop.clean) report.warnings.push(`file incomplete: ${result.stop.reason} (at byte ${result.stop.offset} of ${result.bytes})`);
  if (sizes.length > 0)
    report.chunks = { count: sizes.length, minBytes: Math.min(...sizes), maxBytes: Math.max(...sizes), meanBytes: sizes.reduce((a, b) => a + b, 0) / sizes.length };
  for (const channel of channels.values()) {
    const schema = schemas.get(channel.schemaId);
    const entry = perChannel.get(channel.id);
    report.topics.push({
      topic: channel.topic,
      schemaName: schema?.name ?? "",
      schemaEncoding: schema?.encoding ?? "",
      messageEncoding: channel.messageEncoding,
      messages: entry?.count ?? 0,
      rateHz: rate(entry?.count ?? 0, entry?.first, entry?.last),
    });
  }
  report.topics.sort((a, b) => a.topic.localeCompare(b.topic));
  finishAlignment(report, clocks);
  return report;
}

/** The report as text for a terminal. */
export function formatInspectReport(report: InspectReport): string {
  const lines: string[] = [];
  const mb = (n: number): string => `${(n / 1e6).toFixed(2)} MB`;
  lines.push(`file:        ${report.path} (${mb(report.bytes)})`);
  lines.push(`profile:     ${report.profile || "(none)"}   library: ${report.library || "(none)"}   read via: ${report.readVia}`);
  for (const warning of report.warnings) lines.push(`WARNING:     ${warning}`);
  lines.push(`messages:    ${report.messages}`);
  if (report.startTime !== null) lines.push(`log time:    ${report.startTime} .. ${report.endTime} ns (${report.durationS.toFixed(3)} s)`);
  const compression = Object.entries(report.compression)
    .map(([name, c]) => `${name}: ${c.chunks} chunks, ${mb(c.compressedBytes)} / ${mb(c.uncompressedBytes)} (ratio ${(c.uncompressedBytes / Math.max(1, c.compressedBytes)).toFixed(2)})`)
    .join("; ");
  lines.push(`compression: ${compression || "(no chunks)"}`);
  if (report.chunks !== null)
    lines.push(`chunks:      ${report.chunks.count}, uncompressed size min ${mb(report.chunks.minBytes)} / mean ${mb(report.chunks.meanBytes)} / max ${mb(report.chunks.maxBytes)}`);
  lines.push("topics:");
  const width = Math.max(5, ...report.topics.map((t) => t.topic.length));
  for (const topic of report.topics) {
    const rateText = topic.rateHz === null ? "   -   " : `${topic.rateHz.toFixed(2)} Hz`;
    lines.push(`  ${topic.topic.padEnd(width)}  ${String(topic.messages).padStart(8)} msgs  ${rateText.padStart(11)}  ${topic.schemaName} [${topic.messageEncoding}/${topic.schemaEncoding || "no schema"}]`);
  }
  if (report.metadata.length > 0) {
    lines.push("metadata:");
    for (const m of report.metadata) lines.push(`  ${m.name}: ${Object.entries(m.entries).map(([k, v]) => `${k}=${oneLine(v)}`).join(", ")}`);
  }
  if (report.attachments.length > 0) {
    lines.push("attachments:");
    for (const a of report.attachments) lines.push(`  ${a.name} (${a.mediaType}, ${a.bytes} bytes)`);
  }
  lines.push("alignment:");
  if (report.alignment.metadata.length === 0 && report.alignment.clocks.length === 0) lines.push("  (no alignment metadata or clock states in this file)");
  for (const m of report.alignment.metadata) lines.push(`  ${m.name}: ${Object.keys(m.entries).length} entries`);
  if (report.alignment.clocks.length > 0) {
    // Columns as wide as their longest cell (sensor names vary from "can" to long driver names).
    const header = ["sensor", "mode", "offset ms", "drift ppm", "latency ms", "latency from", "confidence", "samples", "steps"];
    const rows = report.alignment.clocks.map((c) => [
      c.sensor,
      c.mode,
      (c.offsetS * 1e3).toFixed(3),
      c.driftPpm.toFixed(2),
      (c.latencyS * 1e3).toFixed(3),
      c.latencySource,
      c.confidence.toFixed(2),
      String(c.samplesUsed),
      String(c.stepsDetected),
    ]);
    const numeric = [false, false, true, true, true, false, true, true, true];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const row = (cells: string[]): string => `  ${cells.map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join("  ")}`.trimEnd();
    lines.push(row(header), ...rows.map(row));
  }
  const a = report.alignment;
  if (a.clockModels === "hindsight") lines.push("  stamped before a clock model converged: none (hindsight models, fitted over the whole drive before any message was stamped)");
  else if (a.clocks.length > 0) {
    const origin = report.startTime ?? 0n;
    const rows = (a.unconverged ?? []).filter((u) => u.messages > 0);
    if (rows.length === 0) lines.push("  stamped before a clock model converged: none");
    else {
      lines.push(`  stamped before a clock model converged (online models; s from the first message, per clock state):`);
      for (const u of rows) lines.push(`    ${u.sensor}: ${formatUnconverged(u, origin)}`);
      lines.push("    (`syncbag convert` re-stamps them with hindsight models)");
    }
  }
  return lines.join("\n");
}

/** JSON-safe form (bigint as string). */
export function inspectReportJson(report: InspectReport): string {
  return JSON.stringify(report, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value), 2);
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 80 ? flat.slice(0, 77) + "..." : flat;
}
