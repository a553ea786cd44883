/**
 * TEST DOUBLE of the DriveConverter: copies every message into an MCAP unchanged (no clock
 * models, no alignment, no suggestions) and reports per-topic counts, rates and gap-based drops.
 * It exists so the batch machinery (readers, workers, resume, reports) is testable and
 * benchmarkable on its own; the real converter comes from src/pipeline and replaces it in the CLI.
 */
import { chunkCompressor } from "../record/compression.js";
import { McapFileWriter } from "../record/mcap-writer.js";
import { FileSink } from "../record/sink.js";
import type { DriveConverter } from "./converter.js";
import type { DriveReportInput, SensorReport } from "./report.js";

/** Drops: gaps longer than 1.5 median periods, counted in missing periods. */
export function rateAndDrops(times: readonly bigint[]): { rateHz: number; drops: number } {
  if (times.length < 2) return { rateHz: 0, drops: 0 };
  const gaps: number[] = [];
  for (let i = 1; i < times.length; i++) gaps.push(Number(times[i]! - times[i - 1]!) / 1e9);
  const sorted = [...gaps].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const span = Number(times[times.length - 1]! - times[0]!) / 1e9;
  let drops = 0;
  if (median > 0) for (const g of gaps) if (g > 1.5 * median) drops += Math.round(g / median) - 1;
  return { rateHz: span > 0 ? (times.length - 1) / span : 0, drops };
}

const CHUNK_BYTES = 4 << 20;

export const copyOnlyConverter: DriveConverter = async (source, output, options, progress) => {
  const times = new Map<string, bigint[]>();
  let count = 0;
  let first: bigint | undefined;
  let last: bigint | undefined;
  // The recorder's own writer (native CRC, chunk scratch reused), zstd level 1 inline: the double
  // measures the batch machinery and the readers, not a JS CRC or a compression ratio.
  const writer = new McapFileWriter({ sink: await FileSink.create(output.mcapPath), compressor: chunkCompressor("zstd", 1, false), profile: "ros2", library: "syncbag convert (copy-only test double)" });
  let ended = false;
  try {
    await writer.start();
    const channels = new Map<string, number>();
    for (const t of source.topics) {
      const schemaId = t.schema.encoding === "" ? 0 : writer.addSchema({ name: t.schema.name, encoding: t.schema.encoding, data: t.schema.data });
      channels.set(t.topic, writer.addChannel({ topic: t.topic, schemaId, messageEncoding: t.encoding, metadata: new Map(t.qos !== undefined ? [["offered_qos_profiles", t.qos]] : []) }));
      times.set(t.topic, []);
    }
    for await (const m of source.messages()) {
      writer.addMessage(channels.get(m.topic)!, count, m.logTime, m.publishTime ?? m.logTime, m.data);
      if (writer.openChunkBytes >= CHUNK_BYTES) await writer.flushChunk();
      times.get(m.topic)!.push(m.logTime);
      first ??= m.logTime;
      last = m.logTime;
      if (++count % 1000 === 0) progress({ fraction: NaN, messages: count, stage: "copy" });
    }
    await writer.end();
    ended = true;
  } finally {
    if (!ended) await writer.end({ discardOpenChunk: true }).catch(() => undefined);
  }
  const sensors: SensorReport[] = source.topics.map((t) => ({ name: t.topic, topic: t.topic, type: t.type, count: times.get(t.topic)!.length, ...rateAndDrops(times.get(t.topic)!) }));
  const start = first ?? source.metadata.startTime ?? 0n;
  const end = last ?? start;
  const report: DriveReportInput = {
    drive: options.drive,
    input: source.path,
    format: source.metadata.format,
    startTime: start.toString(),
    endTime: end.toString(),
    durationS: Number(end - start) / 1e9,
    messageCount: count,
    sensors,
    clockModels: [],
    syncError: {},
    suggestions: {},
    events: [],
    warnings: [...source.warnings],
  };
  return report;
};
